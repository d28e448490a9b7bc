#!/usr/bin/env bash
# End-to-end test of the Lambda function (lambda/) with no cloud account: moto's S3 server,
# a Lambda Runtime API emulator, an 8K and a 16K JPEG upload, the outputs checked in the
# destination bucket and the function's peak memory checked under a 128 MB setting. See
# lambda/tests/e2e.py for what runs and why. Run from anywhere; CI runs it from .ci/run.
set -euo pipefail
cd "$(dirname "$0")/../.."
started=$(date +%s)

# moto 5.2.5 in a virtual environment under target/ that sees the system's packages (boto3,
# Pillow, Flask), so only moto itself is installed: the moto 5.2.1 a machine may have answers
# CompleteMultipartUpload with an XML root the Rust SDK rejects (getmoto/moto#10055).
venv=target/lambda-e2e/venv
if ! "$venv/bin/python" -c "import sys, moto; sys.exit(moto.__version__ != '5.2.5')" 2>/dev/null; then
  rm -rf "$venv"
  python3 -m venv --system-site-packages "$venv"
  "$venv/bin/pip" install --quiet 'moto[server,s3]==5.2.5' boto3 pillow
fi

nice -n 10 cargo build --release -p stripflow-lambda --bin stripflow-lambda --example sample_jpeg
"$venv/bin/python" lambda/tests/e2e.py \
  --function target/release/stripflow-lambda \
  --sample target/release/examples/sample_jpeg \
  --workdir target/lambda-e2e
echo "lambda e2e: $(( $(date +%s) - started )) s"
