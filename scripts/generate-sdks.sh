#!/usr/bin/env bash
# Regenerates the SDKs' generated parts from the API: exports the OpenAPI document to sdk/openapi.json,
# then sdk/codegen/generate.mjs (operation layers, models.openapi.json), datamodel-code-generator (Python
# models), oapi-codegen (Go models) and openapi-typescript (TypeScript types). With --check it writes
# nothing: it regenerates into a scratch folder and fails when sdk/ differs, i.e. when the API changed and
# the SDKs were not regenerated, or when an operation of the API has no method in one of the SDKs
# (scripts/check-sdk-coverage.ts).
set -euo pipefail
cd "$(dirname "$0")/.."

OAPI_CODEGEN=github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen@v2.8.2
DATAMODEL_CODEGEN=sdk/python/.venv/bin/datamodel-codegen
[ -x "$DATAMODEL_CODEGEN" ] || { echo "generate-sdks: $DATAMODEL_CODEGEN is missing: run npm run setup" >&2; exit 1; }

# Writes every generated file for the document $1 under the folder $2 (laid out like sdk/).
generate() {
  local document=$1 out=$2
  node sdk/codegen/generate.mjs "$document" "$out"
  "$DATAMODEL_CODEGEN" --input "$out/models.openapi.json" --input-file-type openapi \
    --output-model-type pydantic_v2.BaseModel --output "$out/python/src/wisp/models.py" \
    --target-python-version 3.10 --snake-case-field --allow-population-by-field-name --use-annotated \
    --field-constraints --disable-timestamp --strict-nullable --enum-field-as-literal all 2>/dev/null
  local models
  models=$(realpath "$out/models.openapi.json")
  local target
  target=$(realpath "$out/go")/models.gen.go
  (cd sdk/go && go run "$OAPI_CODEGEN" -config oapi-codegen.yaml -o "$target" "$models")
  gofmt -w "$out/go/operations.gen.go" "$out/go/models.gen.go"
  npx tsx sdk/typescript/scripts/generate-types.ts "$document" "$out/typescript/src/generated/schema.ts" >/dev/null
}

GENERATED=(
  openapi.json
  models.openapi.json
  python/src/wisp/_resources.py
  python/src/wisp/models.py
  go/operations.gen.go
  go/models.gen.go
  ruby/lib/wisp/operations.rb
  typescript/src/generated/operations.ts
  typescript/src/generated/models.ts
  typescript/src/generated/schema.ts
)

if [ "${1:-}" != "--check" ]; then
  npx tsx scripts/export-openapi.ts
  generate sdk/openapi.json sdk
  echo "generate-sdks: done"
  exit 0
fi

SCRATCH=$(mktemp -d)
mkdir -p "$SCRATCH/go"
# The exporter writes sdk/openapi.json; the committed one is put back whatever happens.
cp sdk/openapi.json "$SCRATCH/committed-openapi.json"
trap 'cp "$SCRATCH/committed-openapi.json" sdk/openapi.json; rm -rf "$SCRATCH"' EXIT
npx tsx scripts/export-openapi.ts >/dev/null
cp sdk/openapi.json "$SCRATCH/openapi.json"
cp "$SCRATCH/committed-openapi.json" sdk/openapi.json
generate "$SCRATCH/openapi.json" "$SCRATCH"
stale=()
for file in "${GENERATED[@]}"; do
  cmp -s "sdk/$file" "$SCRATCH/$file" || stale+=("sdk/$file")
done
# Every operation of the API has a method in every SDK (generated or hand-written).
covered=0
npx tsx scripts/check-sdk-coverage.ts "$SCRATCH/openapi.json" || covered=$?
if [ "${#stale[@]}" -gt 0 ]; then
  echo "generate-sdks: out of date with the API: ${stale[*]}" >&2
  echo "generate-sdks: run \`npm run sdk:generate\` and commit the result" >&2
  exit 1
fi
[ "$covered" -eq 0 ] || exit 1
echo "generate-sdks: every generated part matches the API"
