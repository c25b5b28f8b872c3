"""Verifies one webhook delivery with Python's standardwebhooks package, as a Python receiver would.

Reads {"secret", "body", "headers"} as JSON on stdin; prints the verified event's type, or exits 1 with the
package's error.
"""

import json
import sys

from standardwebhooks import Webhook, WebhookVerificationError

request = json.load(sys.stdin)
try:
    event = Webhook(request["secret"]).verify(request["body"], request["headers"])
except WebhookVerificationError as error:
    print(f"refused: {error}")
    sys.exit(1)
print(event["type"])
