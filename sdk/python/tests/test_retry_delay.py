import email.utils
import time

from wisp._transport import MAX_RETRY_DELAY, retry_delay


def test_waits_what_retry_after_says_in_seconds_or_as_a_date():
    assert retry_delay(0, "2") == 2.0
    in_three_seconds = email.utils.formatdate(time.time() + 3, usegmt=True)
    assert 1.5 <= retry_delay(0, in_three_seconds) <= 3.0


def test_backs_off_exponentially_with_jitter_up_to_a_ceiling():
    assert 0.3 <= retry_delay(0, None) <= 0.7
    assert 3.0 <= retry_delay(3, None) <= 5.0
    assert retry_delay(30, None) <= MAX_RETRY_DELAY * 1.25
    assert retry_delay(0, "3600") == MAX_RETRY_DELAY
