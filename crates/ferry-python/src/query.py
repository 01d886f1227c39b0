# Describes the running interpreter as one JSON object on stdout for ferry.
# Runs under every Python ferry may meet (2.7 and 3.x), so: no f-strings, no walrus, no
# imports beyond the standard library, and nothing that prints besides the final JSON.
import sys

# `-c` puts the current directory first on sys.path; a stray json.py there must not hijack us.
sys.path = [p for p in sys.path if p not in ("", ".")]

import json
import os
import platform
import sysconfig


def config_var(name):
    try:
        return sysconfig.get_config_var(name)
    except Exception:
        return None


def implementation_name():
    impl = getattr(sys, "implementation", None)
    if impl is not None:
        return impl.name
    return platform.python_implementation().lower()


def format_full_version(info):
    version = "%d.%d.%d" % (info[0], info[1], info[2])
    if info[3] != "final":
        version += info[3][0] + str(info[4])
    return version


def marker_environment():
    impl = getattr(sys, "implementation", None)
    impl_version = impl.version if impl is not None else sys.version_info
    return {
        "implementation_name": implementation_name(),
        "implementation_version": format_full_version(impl_version),
        "os_name": os.name,
        "platform_machine": platform.machine(),
        "platform_python_implementation": platform.python_implementation(),
        "platform_release": platform.release(),
        "platform_system": platform.system(),
        "platform_version": platform.version(),
        "python_full_version": platform.python_version(),
        "python_version": ".".join(platform.python_version_tuple()[:2]),
        "sys_platform": sys.platform,
    }


def install_paths():
    paths = sysconfig.get_paths()
    keys = ("purelib", "platlib", "scripts", "data", "include", "stdlib")
    return dict((k, paths.get(k)) for k in keys)


def venv_scheme():
    """The layout of a new virtual environment made from this interpreter, relative to its root."""
    names = sysconfig.get_scheme_names()
    if "venv" in names:
        scheme = "venv"
    elif os.name == "nt":
        scheme = "nt"
    else:
        scheme = "posix_prefix"
    return relative_scheme(scheme)


def prefix_scheme():
    """The layout under an installation prefix (`--prefix`, `--root`), relative to it."""
    return relative_scheme("nt" if os.name == "nt" else "posix_prefix")


def user_scheme():
    """The user scheme (`--user`) relative to the user base, or None where it does not exist.
    Relative, because the user base follows HOME and PYTHONUSERBASE, which this cached answer
    must not freeze."""
    if os.name == "nt":
        name = "nt_user"
    elif sys.platform == "darwin" and sysconfig.get_config_var("PYTHONFRAMEWORK"):
        name = "osx_framework_user"
    else:
        name = "posix_user"
    if name not in sysconfig.get_scheme_names():
        return None
    return relative_scheme(name)


def relative_scheme(scheme):
    marker = os.path.join(os.path.abspath(os.sep), "ferry-venv-root")
    variables = {
        "base": marker,
        "platbase": marker,
        "installed_base": marker,
        "installed_platbase": marker,
        "userbase": marker,
    }
    paths = sysconfig.get_paths(scheme=scheme, vars=variables)
    result = {}
    for key in ("purelib", "platlib", "scripts", "data", "include"):
        value = os.path.normpath(paths[key])
        if value == marker:
            result[key] = ""
        elif value.startswith(marker + os.sep):
            result[key] = value[len(marker) + 1:]
        else:
            result[key] = None
    return result


def glibc_version():
    try:
        value = os.confstr("CS_GNU_LIBC_VERSION")
    except (AttributeError, OSError, ValueError):
        value = None
    if value is None:
        try:
            import ctypes

            process = ctypes.CDLL(None)
            gnu_get_libc_version = process.gnu_get_libc_version
            gnu_get_libc_version.restype = ctypes.c_char_p
            value = gnu_get_libc_version()
            if not isinstance(value, str):
                value = value.decode("ascii")
            value = "glibc " + value
        except Exception:
            return None
    parts = value.split()
    if len(parts) != 2 or parts[0] != "glibc":
        return None
    return parts[1]


def elf_interpreter(path):
    """The PT_INTERP path of an ELF executable, or None."""
    import struct

    try:
        with open(path, "rb") as f:
            ident = bytearray(f.read(16))
            if ident[:4] != bytearray(b"\x7fELF"):
                return None
            endian = "<" if ident[5] == 1 else ">"
            if ident[4] == 1:
                header = struct.unpack(endian + "HHIIIIIHHHHHH", f.read(36))
                phoff, phentsize, phnum = header[4], header[8], header[9]
                entry = endian + "IIIIIIII"
            else:
                header = struct.unpack(endian + "HHIQQQIHHHHHH", f.read(48))
                phoff, phentsize, phnum = header[4], header[8], header[9]
                entry = endian + "IIQQQQQQ"
            for index in range(phnum):
                f.seek(phoff + phentsize * index)
                fields = struct.unpack(entry, f.read(struct.calcsize(entry)))
                if fields[0] != 3:  # PT_INTERP
                    continue
                if ident[4] == 1:
                    offset, size = fields[1], fields[4]
                else:
                    offset, size = fields[2], fields[5]
                f.seek(offset)
                return f.read(size).rstrip(b"\0").decode("utf-8", "replace")
    except (OSError, IOError, struct.error, ValueError):
        return None
    return None


def musl_version():
    if not sys.platform.startswith("linux"):
        return None
    loader = elf_interpreter(sys.executable)
    if not loader or "musl" not in os.path.basename(loader):
        return None
    import subprocess

    try:
        proc = subprocess.Popen([loader], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        _, err = proc.communicate()
    except (OSError, IOError):
        return None
    for line in err.decode("utf-8", "replace").splitlines():
        line = line.strip()
        if line.startswith("Version "):
            return line.split()[1]
    return None


def mac_version():
    if sys.platform != "darwin":
        return None, None
    release, _, machine = platform.mac_ver()
    if release.split(".")[:2] == ["10", "16"]:
        # Compatibility mode: ask a fresh interpreter for the real version.
        import subprocess

        env = dict(os.environ)
        env["SYSTEM_VERSION_COMPAT"] = "0"
        try:
            out = subprocess.check_output(
                [sys.executable, "-sS", "-c", "import platform; print(platform.mac_ver()[0])"],
                env=env,
            )
            release = out.decode().strip()
        except Exception:
            pass
    return release, machine


def extension_suffixes():
    try:
        import importlib.machinery

        return list(importlib.machinery.EXTENSION_SUFFIXES)
    except ImportError:
        import imp

        return [s[0] for s in imp.get_suffixes() if s[2] == imp.C_EXTENSION]


def tag_facts():
    mac_release, mac_machine = mac_version()
    return {
        "py_version_nodot": config_var("py_version_nodot"),
        "py_debug": config_var("Py_DEBUG"),
        "has_total_refcount": hasattr(sys, "gettotalrefcount"),
        "extension_suffixes": extension_suffixes(),
        "gil_disabled": config_var("Py_GIL_DISABLED"),
        "with_pymalloc": config_var("WITH_PYMALLOC"),
        "unicode_size": config_var("Py_UNICODE_SIZE"),
        "max_unicode": sys.maxunicode,
        "ext_suffix": config_var("EXT_SUFFIX") or config_var("SO"),
        "platform": sysconfig.get_platform(),
        "is_32bit": sys.maxsize <= 2 ** 32,
        "glibc_version": glibc_version() if sys.platform.startswith("linux") else None,
        "musl_version": musl_version(),
        "mac_version": mac_release,
        "mac_machine": mac_machine,
    }


def base_executable():
    """The interpreter a new virtual environment should point at."""
    base = getattr(sys, "_base_executable", None)
    prefix = sys.prefix
    base_prefix = getattr(sys, "base_prefix", None) or getattr(sys, "real_prefix", None) or prefix
    in_venv = prefix != base_prefix
    if base and (not in_venv or os.path.realpath(base) != os.path.realpath(sys.executable)):
        return base
    if not in_venv:
        return sys.executable
    # An older interpreter running inside a venv: follow pyvenv.cfg's `home`.
    home = None
    try:
        with open(os.path.join(prefix, "pyvenv.cfg")) as f:
            for line in f:
                key, sep, value = line.partition("=")
                if sep and key.strip().lower() == "home":
                    home = value.strip()
    except (OSError, IOError):
        pass
    if home:
        names = [
            "python%d.%d" % sys.version_info[:2],
            "python%d" % sys.version_info[0],
            "python",
            "python.exe",
        ]
        for name in names:
            candidate = os.path.join(home, name)
            if os.path.isfile(candidate):
                return candidate
    return os.path.realpath(sys.executable)


def pip_default_index():
    """The index this interpreter's pip uses when none is configured (or the base
    interpreter's pip, for a virtual environment without one)."""
    directories = [sysconfig.get_paths().get("purelib")]
    base = getattr(sys, "base_prefix", None) or getattr(sys, "real_prefix", None) or sys.prefix
    if base != sys.prefix:
        try:
            directories.append(sysconfig.get_paths(vars={"base": base, "platbase": base})["purelib"])
        except Exception:
            pass
    for directory in directories:
        if not directory or not os.path.isfile(os.path.join(directory, "pip", "__init__.py")):
            continue
        sys.path.insert(0, directory)
        try:
            from pip._internal.models.index import PyPI

            return PyPI.simple_url
        except Exception:
            continue
        finally:
            sys.path.remove(directory)
    return None


def site_packages():
    # Every site-packages directory on sys.path: a venv's own, plus the base interpreter's when
    # the venv was made with system site packages (site.py puts both in its prefixes).
    try:
        import site
        return [p for p in site.getsitepackages()]
    except Exception:
        return []


def main():
    prefix = sys.prefix
    base_prefix = getattr(sys, "base_prefix", None) or getattr(sys, "real_prefix", None) or prefix
    info = {
        "implementation": implementation_name(),
        "version": list(sys.version_info[:3]) + [sys.version_info[3], sys.version_info[4]],
        "executable": sys.executable,
        "base_executable": base_executable(),
        "prefix": prefix,
        "base_prefix": base_prefix,
        "exec_prefix": sys.exec_prefix,
        "base_exec_prefix": getattr(sys, "base_exec_prefix", base_prefix),
        "paths": install_paths(),
        "venv_scheme": venv_scheme(),
        "markers": marker_environment(),
        "tags": tag_facts(),
        "pointer_size": 32 if sys.maxsize <= 2 ** 32 else 64,
        "pip_default_index": pip_default_index(),
        "prefix_scheme": prefix_scheme(),
        "user_scheme": user_scheme(),
        "cache_tag": getattr(getattr(sys, "implementation", None), "cache_tag", None),
        "site_packages": site_packages(),
    }
    sys.stdout.write("\n" + json.dumps(info) + "\n")
    sys.stdout.flush()


main()
