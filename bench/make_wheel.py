"""Writes a pure-Python wheel of about SIZE MiB (incompressible data, stored) into DIR.

usage: make_wheel.py DIR NAME SIZE_MIB
"""
import base64
import hashlib
import os
import sys
import zipfile


def main():
    out, name, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, f"{name}-1.0-py3-none-any.whl")
    if os.path.exists(path):
        return
    dist_info = f"{name}-1.0.dist-info"
    record = []

    def add(zf, arcname, data):
        zf.writestr(zipfile.ZipInfo(arcname, (2024, 1, 1, 0, 0, 0)), data)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{arcname},sha256={digest},{len(data)}")

    tmp = path + ".part"
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        add(zf, f"{name}/__init__.py", b"")
        # 64 MiB files, like the shared libraries of a large binary wheel.
        chunk = 64
        for i in range(0, size, chunk):
            add(zf, f"{name}/blob{i // chunk}.bin", os.urandom(min(chunk, size - i) << 20))
        add(zf, f"{dist_info}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n".encode())
        add(zf, f"{dist_info}/WHEEL", b"Wheel-Version: 1.0\nGenerator: bench\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        record.append(f"{dist_info}/RECORD,,")
        zf.writestr(zipfile.ZipInfo(f"{dist_info}/RECORD", (2024, 1, 1, 0, 0, 0)), "\n".join(record) + "\n")
    os.replace(tmp, path)


main()
