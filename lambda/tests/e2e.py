#!/usr/bin/env python3
"""End-to-end test of stripflow-lambda with no cloud account (run by lambda/tests/e2e.sh).

- S3: moto's server mode (PyPI `moto[server]`, 5.2.5: 5.2.0 to 5.2.1 answer CompleteMultipartUpload
  with the root element CompleteMultipartUploadResponse, which boto3 tolerates and the Rust SDK
  rightly rejects, getmoto/moto#10055), started here on a free loopback port.
- Lambda: a small emulator of the Lambda Runtime API (below), the same protocol Lambda's own
  runtime interface emulator speaks: the function polls GET /2018-06-01/runtime/invocation/next
  and posts .../{id}/response or .../{id}/error. It runs in this process, so the test starts the
  function binary itself and measures that process' peak memory (VmHWM, sampled every 50 ms and
  read last before it is stopped), and confines it to a 128 MiB memory cgroup where the machine allows one.
- Uploads: an 8K (7680x4320) and a 16K (16384x16384) JPEG made by the crate's `sample_jpeg`
  example from stripflow's procedural sample; events are S3 ObjectCreated:Put notifications.
- Checks: each output object exists in the destination bucket with the size the fit gives
  (decoded by Pillow), both upload paths ran (PutObject and multipart), the function's peak RSS
  stayed under AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128, and a function whose budget is too small
  refuses the upload with errorType PlanExceedsMemory before writing anything.
"""

import argparse
import http.server
import io
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid

import boto3
from PIL import Image

Image.MAX_IMAGE_PIXELS = None
MEMORY_MB = 128
SRC, DST = "uploads", "renditions"
RECIPE = {
    "dest_bucket": DST,
    "dest_prefix": "out/",
    # Small parts so that the big rendition goes through the multipart path.
    "multipart_threshold": 5 << 20,
    "part_size": 5 << 20,
    "outputs": [
        {"name": "thumb", "width": 256, "format": "jpeg", "quality": 80, "fit": "inside"},
        {"name": "card", "width": 1200, "height": 630, "format": "webp", "quality": 82, "fit": "cover"},
        {"name": "square", "width": 512, "height": 512, "format": "png", "fit": "cover"},
        {"name": "large", "width": 8192, "format": "jpeg", "quality": 95, "fit": "inside"},
    ],
}
UPLOADS = {"photo-8k.jpg": (7680, 4320), "photo-16k.jpg": (16384, 16384)}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def log(msg):
    print(f"e2e: {msg}", flush=True)


class RuntimeApi:
    """The Lambda Runtime API: invocations queued by the test, results posted by the function."""

    def __init__(self):
        self.pending = queue.Queue()
        self.results = {}
        self.done = threading.Condition()
        port = free_port()
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def reply(self, status, body=b"", headers=()):
                self.send_response(status)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the test stopped the function right after it posted its answer

            def do_GET(self):
                if self.path != "/2018-06-01/runtime/invocation/next":
                    return self.reply(404)
                request_id, payload = api.pending.get()
                deadline = int((time.time() + 600) * 1000)
                self.reply(200, payload, [
                    ("Content-Type", "application/json"),
                    ("Lambda-Runtime-Aws-Request-Id", request_id),
                    ("Lambda-Runtime-Deadline-Ms", str(deadline)),
                    ("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:stripflow"),
                    ("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000"),
                ])

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                parts = self.path.split("/")
                # /2018-06-01/runtime/invocation/{id}/{response|error}, /2018-06-01/runtime/init/error
                if len(parts) == 6 and parts[3] == "invocation" and parts[5] in ("response", "error"):
                    with api.done:
                        api.results[parts[4]] = (parts[5], json.loads(body or b"null"))
                        api.done.notify_all()
                    return self.reply(202, b'{"status":"OK"}')
                if self.path == "/2018-06-01/runtime/init/error":
                    with api.done:
                        api.results["init"] = ("error", json.loads(body or b"null"))
                        api.done.notify_all()
                    return self.reply(202, b'{"status":"OK"}')
                self.reply(404)

        class Server(http.server.ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass  # a poll cut short when the test stops a function

        self.server = Server(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.address = f"127.0.0.1:{port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def invoke(self, event, timeout=600):
        request_id = str(uuid.uuid4())
        self.pending.put((request_id, json.dumps(event).encode()))
        with self.done:
            ok = self.done.wait_for(lambda: request_id in self.results or "init" in self.results, timeout)
        if not ok:
            raise AssertionError(f"no answer from the function in {timeout} s")
        if "init" in self.results:
            raise AssertionError(f"the function failed to start: {self.results['init']}")
        return self.results[request_id]


def s3_event(bucket, key, size):
    return {"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventTime": "2026-12-03T12:00:00.000Z", "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "EXAMPLE"}, "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {"x-amz-request-id": "EXAMPLE", "x-amz-id-2": "EXAMPLE"},
        "s3": {"s3SchemaVersion": "1.0", "configurationId": "stripflow",
               "bucket": {"name": bucket, "ownerIdentity": {"principalId": "EXAMPLE"}, "arn": f"arn:aws:s3:::{bucket}"},
               "object": {"key": urllib.parse.quote_plus(key, safe="/"), "size": size, "eTag": "0", "sequencer": "0"}},
    }]}


def memory_cgroup(limit_bytes):
    """A cgroup (v2, else v1) limiting memory to `limit_bytes`, as Lambda does: its cgroup.procs
    path, or None where the machine gives none (then only the measured peak is checked)."""
    name = f"stripflow-lambda-e2e-{os.getpid()}"
    candidates = []
    if os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        own = open("/proc/self/cgroup").read().split("\n")[0].split("::")[-1]
        candidates.append((f"/sys/fs/cgroup{own}/{name}", "memory.max", "memory.swap.max"))
    for line in open("/proc/self/cgroup").read().splitlines():
        fields = line.split(":", 2)
        if len(fields) == 3 and "memory" in fields[1].split(","):
            candidates.append((f"/sys/fs/cgroup/memory{fields[2]}/{name}", "memory.limit_in_bytes", None))
    for path, limit_file, swap_file in candidates:
        try:
            os.mkdir(path)
            with open(os.path.join(path, limit_file), "w") as f:
                f.write(str(limit_bytes))
            if swap_file and os.path.exists(os.path.join(path, swap_file)):
                with open(os.path.join(path, swap_file), "w") as f:
                    f.write("0")
            return path
        except OSError:
            try:
                os.rmdir(path)
            except OSError:
                pass
    return None


class Function:
    """The function binary as Lambda runs it: environment, /tmp, memory limit."""

    def __init__(self, binary, api, env_extra, workdir, cgroup):
        self.tmp = tempfile.mkdtemp(prefix="lambda-tmp-", dir=workdir)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "AWS_LAMBDA_RUNTIME_API": api.address,
            "AWS_LAMBDA_FUNCTION_NAME": "stripflow",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(MEMORY_MB),
            "AWS_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_EC2_METADATA_DISABLED": "true",
            "TMPDIR": self.tmp,
        }
        env.update(env_extra)
        procs = os.path.join(cgroup, "cgroup.procs") if cgroup else None

        def enter_cgroup():
            if procs:
                with open(procs, "w") as f:
                    f.write(str(os.getpid()))

        self.proc = subprocess.Popen([binary], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     preexec_fn=enter_cgroup, text=True)
        self.logs = []
        self.hwm = 0
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._watch, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            line = line.rstrip("\n")
            print(f"  fn| {line}", flush=True)
            try:
                self.logs.append(json.loads(line))
            except ValueError:
                pass

    def _sample(self):
        try:
            for line in open(f"/proc/{self.proc.pid}/status"):
                if line.startswith("VmHWM:"):
                    self.hwm = max(self.hwm, int(line.split()[1]) * 1024)
            return True
        except OSError:
            return False

    def _watch(self):
        while self.proc.poll() is None and self._sample():
            time.sleep(0.05)

    def stop(self):
        """Stops the process; returns its peak RSS in bytes: VmHWM, read until it stops (not
        ru_maxrss, which a forked child inherits from this Python process across exec)."""
        self._sample()
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait()
        return self.hwm

    def events(self, name):
        return [l for l in self.logs if l.get("event") == name]


def expected_size(src, out):
    """The output size for fit inside / cover (rounded; stripflow may differ by one pixel)."""
    (w, h), (bw, bh) = src, (out["width"], out.get("height", out["width"]))
    if out["fit"] == "cover":
        return bw, bh
    scale = min(bw / w, bh / h)
    return round(w * scale), round(h * scale)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--function", required=True)
    ap.add_argument("--sample", required=True)
    ap.add_argument("--workdir", required=True)
    args = ap.parse_args()
    started = time.time()
    os.makedirs(args.workdir, exist_ok=True)
    workdir = tempfile.mkdtemp(prefix="e2e-", dir=args.workdir)
    moto = None
    cgroups = []
    try:
        for key, (w, h) in UPLOADS.items():
            subprocess.run([args.sample, str(w), str(h), os.path.join(workdir, key), "85"], check=True)

        port = free_port()
        moto = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        endpoint = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
        s3.create_bucket(Bucket=SRC)
        s3.create_bucket(Bucket=DST)
        sizes = {}
        for key in UPLOADS:
            path = os.path.join(workdir, key)
            s3.upload_file(path, SRC, key)
            sizes[key] = os.path.getsize(path)
            os.remove(path)
        log(f"moto S3 at {endpoint}; uploaded {sizes}")

        api = RuntimeApi()
        passed = 0
        cgroup = memory_cgroup(MEMORY_MB << 20)
        if cgroup:
            cgroups.append(cgroup)
        log(f"runtime API at {api.address}; memory cgroup: {cgroup or 'none (peak RSS checked only)'}")
        fn = Function(args.function, api, {
            "AWS_ENDPOINT_URL": endpoint,
            "STRIPFLOW_S3_FORCE_PATH_STYLE": "1",
            "STRIPFLOW_CONFIG": json.dumps(RECIPE),
        }, workdir, cgroup)

        for key, dims in UPLOADS.items():
            t = time.time()
            kind, body = api.invoke(s3_event(SRC, key, sizes[key]))
            assert kind == "response", f"{key}: the function failed: {body}"
            log(f"{key}: answered in {time.time() - t:.1f} s")
            outputs = body["objects"][0]["outputs"]
            assert [o["output"] for o in outputs] == [o["name"] for o in RECIPE["outputs"]], outputs
            for spec, out in zip(RECIPE["outputs"], outputs):
                obj = s3.get_object(Bucket=DST, Key=out["dest_key"])
                data = obj["Body"].read()
                assert len(data) == out["bytes"], (out, len(data))
                img = Image.open(io.BytesIO(data))
                img.load()
                assert img.size == (out["width"], out["height"]), (out, img.size)
                ew, eh = expected_size(dims, spec)
                assert abs(img.size[0] - ew) <= 1 and abs(img.size[1] - eh) <= 1, (spec, img.size, (ew, eh))
                assert img.format == {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP"}[spec["format"]], img.format
                assert out["planned_heap_bytes"] <= out["budget_bytes"], out
                # The counting allocator's peak while the job ran, against the plan's prediction.
                assert 0 < out["measured_heap_bytes"] <= out["planned_heap_bytes"], out
                log(f"  {out['dest_key']}: {img.size[0]}x{img.size[1]} {img.format}, {len(data)} bytes by "
                    f"{out['upload']} ({out['parts']} parts); planned heap {out['planned_heap_bytes']}, "
                    f"measured {out['measured_heap_bytes']}")
        uploads = {o["upload"] for o in fn.events("written")}
        assert uploads == {"put_object", "multipart"}, f"both upload paths should run: {uploads}"
        peak = fn.stop()
        log(f"function peak RSS (VmHWM) {peak / (1 << 20):.1f} MiB (limit {MEMORY_MB} MiB)")
        assert peak < MEMORY_MB << 20, f"peak RSS {peak} is over {MEMORY_MB} MiB"
        if cgroup:
            for name in ("memory.peak", "memory.max_usage_in_bytes"):
                if os.path.exists(os.path.join(cgroup, name)):
                    usage = int(open(os.path.join(cgroup, name)).read())
                    log(f"cgroup peak (RSS + page cache of its /tmp files): {usage / (1 << 20):.1f} MiB")
        passed += len(UPLOADS)

        # A function whose budget is smaller than the 16K upload's plan refuses it, typed, and
        # writes nothing.
        api = RuntimeApi()  # a fresh one: the first function's last poll still waits on the old
        small = Function(args.function, api, {
            "AWS_ENDPOINT_URL": endpoint,
            "STRIPFLOW_S3_FORCE_PATH_STYLE": "1",
            "STRIPFLOW_CONFIG": json.dumps(dict(RECIPE, dest_prefix="refused/")),
            "STRIPFLOW_RESERVE_MB": str(MEMORY_MB - 1),
        }, workdir, None)
        kind, body = api.invoke(s3_event(SRC, "photo-16k.jpg", sizes["photo-16k.jpg"]))
        small.stop()
        assert kind == "error" and body["errorType"] == "PlanExceedsMemory", (kind, body)
        failed = small.events("failed")
        assert failed and failed[0]["planned_heap_bytes"] > failed[0]["budget_bytes"], failed
        listed = s3.list_objects_v2(Bucket=DST, Prefix="refused/")
        assert listed.get("KeyCount", 0) == 0, listed
        log(f"refused at a {failed[0]['budget_bytes']} byte budget: {body['errorMessage']}")

        passed += 1
        print(f"e2e: {passed} passed, 0 failed ({time.time() - started:.0f} s)", flush=True)
    finally:
        if moto:
            moto.terminate()
            moto.wait()
        for cg in cgroups:
            try:
                os.rmdir(cg)
            except OSError:
                pass
        subprocess.run(["rm", "-rf", workdir])


if __name__ == "__main__":
    main()
