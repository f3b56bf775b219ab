#!/usr/bin/env python3
"""Real npm and pip installs through `ward run` against a loopback upstream
that adds latency to every request, next to the same client straight from
that upstream. Prints numbers; asserts nothing (issue 11's goal: cold
<= 1.3x direct, warm <= 0.8x direct).

    bench/install_latency.py WARD_BINARY [--packages N] [--latency-ms MS] [--runs R]

The upstream is generated here: N npm packages (one root depending on the
others) as packuments and tarballs, and N pure-Python wheels (one root
requiring the others) with PEP 503 pages, served by a threaded HTTP server
that sleeps MS before each answer. ward runs a warn-mode policy, so every
artifact is verified, recorded and allowed. "cold": empty ward cache and
empty client cache; "warm": ward's cache kept from a previous run (metadata
within its TTL), the client's cache empty.
"""

import base64
import hashlib
import http.server
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import zipfile


def tgz(files):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def npm_tree(root, n, up):
    names = [f"bench-pkg-{i:03d}" for i in range(n)]
    for i, name in enumerate(names):
        deps = {d: "1.0.0" for d in names[1:]} if i == 0 else {}
        manifest = {"name": name, "version": "1.0.0", "license": "MIT", "main": "index.js", "dependencies": deps}
        tar = tgz({
            "package/package.json": json.dumps(manifest).encode(),
            "package/index.js": f"module.exports = {i};\n".encode(),
        })
        os.makedirs(os.path.join(root, "npm", name, "-"), exist_ok=True)
        with open(os.path.join(root, "npm", name, "-", f"{name}-1.0.0.tgz"), "wb") as f:
            f.write(tar)
        integrity = "sha512-" + base64.b64encode(hashlib.sha512(tar).digest()).decode()
        packument = {
            "name": name,
            "dist-tags": {"latest": "1.0.0"},
            "versions": {"1.0.0": dict(manifest, dist={
                "tarball": f"{up}/npm/{name}/-/{name}-1.0.0.tgz", "integrity": integrity})},
        }
        with open(os.path.join(root, "npm", name, "index.json"), "w") as f:
            json.dump(packument, f)
    return names[0]


def pypi_tree(root, n):
    names = [f"bench-pkg-{i:03d}" for i in range(n)]
    for i, name in enumerate(names):
        module = name.replace("-", "_")
        requires = "".join(f"Requires-Dist: {d}==1.0.0\n" for d in names[1:]) if i == 0 else ""
        metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0.0\n{requires}\n"
        record = f"{module}/__init__.py,,\n{module}-1.0.0.dist-info/METADATA,,\n{module}-1.0.0.dist-info/WHEEL,,\n{module}-1.0.0.dist-info/RECORD,,\n"
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr(f"{module}/__init__.py", f"VALUE = {i}\n")
            z.writestr(f"{module}-1.0.0.dist-info/METADATA", metadata)
            z.writestr(f"{module}-1.0.0.dist-info/WHEEL",
                       "Wheel-Version: 1.0\nGenerator: ward-bench\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
            z.writestr(f"{module}-1.0.0.dist-info/RECORD", record)
        wheel = buf.getvalue()
        file = f"{module}-1.0.0-py3-none-any.whl"
        os.makedirs(os.path.join(root, "pypi", "files"), exist_ok=True)
        with open(os.path.join(root, "pypi", "files", file), "wb") as f:
            f.write(wheel)
        with open(os.path.join(root, "pypi", "files", file + ".metadata"), "w") as f:
            f.write(metadata)
        sha = hashlib.sha256(wheel).hexdigest()
        msha = hashlib.sha256(metadata.encode()).hexdigest()
        page = os.path.join(root, "pypi", "simple", name)
        os.makedirs(page, exist_ok=True)
        with open(os.path.join(page, "index.html"), "w") as f:
            f.write(f'<!DOCTYPE html><html><body><a href="/pypi/files/{file}#sha256={sha}" '
                    f'data-core-metadata="sha256={msha}">{file}</a></body></html>\n')
    return names[0]


def serve(root, latency):
    class Handler(http.server.SimpleHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def __init__(self, *a, **k):
            super().__init__(*a, directory=root, **k)

        def translate_path(self, path):
            # Packuments: /npm/<name> is /npm/<name>/index.json.
            p = super().translate_path(path)
            if os.path.isdir(p) and os.path.isfile(os.path.join(p, "index.json")):
                return os.path.join(p, "index.json")
            return p

        def send_head(self):
            time.sleep(latency)
            return super().send_head()

        def log_message(self, *a):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def timed(cmd, env, cwd):
    start = time.monotonic()
    out = subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    took = time.monotonic() - start
    if out.returncode != 0:
        sys.stderr.write(out.stdout.decode(errors="replace")[-3000:])
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return took


def main():
    args = sys.argv[1:]
    ward = os.path.abspath(args[0])
    opt = lambda name, default: type(default)(args[args.index(name) + 1]) if name in args else default
    n, latency_ms, runs = opt("--packages", 80), opt("--latency-ms", 50), opt("--runs", 3)
    work = tempfile.mkdtemp(prefix="ward-bench-install-")
    try:
        root = os.path.join(work, "upstream")
        os.makedirs(root)
        server = serve(root, latency_ms / 1000)
        up = f"http://127.0.0.1:{server.server_address[1]}"
        npm_root, pypi_root = npm_tree(root, n, up), pypi_tree(root, n)
        base_env = {k: v for k, v in os.environ.items()
                    if not k.upper().startswith(("PIP_", "NPM_CONFIG_", "UV_", "WARD_")) and "PROXY" not in k.upper()}
        keys = os.path.join(work, "keys")
        os.makedirs(keys)
        subprocess.run([ward, "keygen", "-o", os.path.join(keys, "bench")], env=dict(base_env, WARD_DATA_DIR=work),
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        pub = next(os.path.join(keys, f) for f in os.listdir(keys) if f.endswith(".pub"))
        policy = os.path.join(work, "ward.toml")
        with open(policy, "w") as f:
            f.write(f'version = 1\n\n[[scope]]\npackages = ["*"]\nkeys = ["{pub}"]\nmode = "warn"\n')
        print(f"== installs of {n} packages, upstream {latency_ms} ms per request, best of {runs} "
              "(goals: cold <= 1.3x direct, warm <= 0.8x direct)")
        clients = []
        if shutil.which("npm"):
            def npm(run_dir, registry=None):
                cmd = ["npm", "install", "--no-audit", "--no-fund", "--no-update-notifier", "--ignore-scripts",
                       "--cache", os.path.join(run_dir, "npm-cache"), "--prefix", run_dir, f"{npm_root}@1.0.0"]
                if registry:
                    cmd += ["--registry", registry]
                return cmd
            clients.append(("npm", npm, f"{up}/npm/", {"npm_config_userconfig": "/dev/null"}))
        if shutil.which("python3"):
            def pip(run_dir, registry=None):
                cmd = ["python3", "-m", "pip", "install", "--no-cache-dir", "--disable-pip-version-check",
                       "--no-input", "--target", os.path.join(run_dir, "site"), f"{pypi_root}==1.0.0"]
                if registry:
                    cmd += ["--index-url", registry]
                return cmd
            clients.append(("pip", pip, f"{up}/pypi/simple/", {"PIP_CONFIG_FILE": "/dev/null"}))
        for label, command, direct_registry, extra_env in clients:
            env = dict(base_env, **extra_env)
            results = {"direct": [], "cold": [], "warm": []}
            for r in range(runs):
                d = tempfile.mkdtemp(dir=work)
                results["direct"].append(timed(command(d, direct_registry), env, d))
                data = tempfile.mkdtemp(dir=work)
                ward_env = dict(env, WARD_DATA_DIR=data)
                ward_cmd = [ward, "run", "--listen", "127.0.0.1:0", "--policy", policy,
                            "--pypi-upstream", f"{up}/pypi", "--npm-upstream", f"{up}/npm", "--"]
                d = tempfile.mkdtemp(dir=work)
                results["cold"].append(timed(ward_cmd + command(d), ward_env, d))
                d = tempfile.mkdtemp(dir=work)
                results["warm"].append(timed(ward_cmd + command(d), ward_env, d))
            direct = min(results["direct"])
            cold, warm = min(results["cold"]), min(results["warm"])
            print(f"{label:4} direct {direct:6.2f} s   ward run cold {cold:6.2f} s ({cold / direct:.2f}x)   "
                  f"warm {warm:6.2f} s ({warm / direct:.2f}x)")
        server.shutdown()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
