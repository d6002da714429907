#!/usr/bin/env python3
"""Makes PyPI's PyTorch importable on a machine without CUDA.

PyPI's Linux x86_64 torch wheel is built against CUDA: libtorch_cpu.so, libtorch_cuda.so and
torch/_C link the CUDA runtime, cuBLAS, cuDNN, NCCL, ... which the wheel takes from nvidia-*
packages of several GiB. cortado only runs torch on the CPU (to export models and compute
reference outputs), so tools/setup.sh installs the wheel without them and this script writes,
into torch/lib (on the libraries' RPATH), one small stub library per missing CUDA library. A stub
defines every symbol torch takes from that library (with the library's symbol version), and each
stub function reports an error: the CUDA runtime's functions return cudaErrorNoDevice (100),
functions named like ...GetErrorString return a message. torch then sees no CUDA device, as on
a machine without a GPU, and nothing of CUDA ever runs.

  torch_cuda_stubs.py SITE_PACKAGES_DIR     (writes the stubs; idempotent)
Needs readelf and a C compiler (cc), both from tools/setup.sh's Debian packages.
"""
import glob
import os
import re
import subprocess
import sys
import tempfile

SYSTEM_LIBS = None
CUDA_LIB = re.compile(r"^lib(cu|nv|nccl)")
# The C entry points of CUDA libraries whose symbols carry no version (driver, cuFile, NCCL,
# cuSPARSELt).
CUDA_SYMBOL = re.compile(r"^(cu|CU|nccl|nvshmem)")


def readelf(args, path):
    return subprocess.run(["readelf", "-W", *args, path], check=True, capture_output=True,
                          text=True).stdout


def needed(path):
    return re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", readelf(["-d"], path))


def system_has(soname):
    global SYSTEM_LIBS
    if SYSTEM_LIBS is None:
        out = subprocess.run(["ldconfig", "-p"], check=True, capture_output=True, text=True).stdout
        SYSTEM_LIBS = set(re.findall(r"^\s*(\S+) \(", out, re.M))
    return soname in SYSTEM_LIBS


def version_files(path):
    """Maps each version name a library needs to the file that provides it."""
    out, current = {}, None
    for line in readelf(["-V"], path).splitlines():
        m = re.search(r"File: (\S+)", line)
        if m:
            current = m.group(1)
        m = re.search(r"Name: (\S+)\s+Flags", line)
        if m and current:
            out[m.group(1)] = current
    return out


def dynamic_symbols(path):
    """(undefined, defined): undefined as (name, version or None, binding, type)."""
    undefined, defined = [], set()
    for line in readelf(["--dyn-syms"], path).splitlines():
        f = line.split()
        if len(f) < 8 or not f[0].rstrip(":").isdigit():
            continue
        sym_type, bind, ndx, name = f[3], f[4], f[6], f[7]
        base, _, version = name.partition("@")
        version = version.lstrip("@").split(" ")[0] or None
        if ndx == "UND":
            if base:
                undefined.append((base, version, bind, sym_type))
        else:
            defined.add(base)
    return undefined, defined


def stub_source(soname, symbols):
    cudart = soname.startswith("libcudart")
    lines = [f"/* Stub of {soname} written by cortado's tools/torch_cuda_stubs.py. */",
             'static const char kMessage[] = "CUDA is not installed (cortado CPU-only torch)";']
    for name, sym_type in sorted(symbols.items()):
        if sym_type == "OBJECT":
            lines.append(f"char {name}[256];")
        elif re.search(r"(Error|Status)(String|Name)$|GetString$", name):
            lines.append(f"const char* {name}(void) {{ return kMessage; }}")
        else:
            lines.append(f"long {name}(void) {{ return {100 if cudart else 1}; }}")
    return "\n".join(lines) + "\n"


def main():
    site = sys.argv[1]
    lib_dir = os.path.join(site, "torch", "lib")
    libs = glob.glob(os.path.join(lib_dir, "*.so*")) + glob.glob(os.path.join(site, "torch", "_C*.so"))
    shipped = {os.path.basename(p) for p in libs}
    defined_anywhere = set()
    per_lib = {}
    for path in libs:
        undefined, defined = dynamic_symbols(path)
        defined_anywhere |= defined
        per_lib[path] = (needed(path), version_files(path), undefined)
    # Every CUDA library is stubbed, even where the system has one (it may be another CUDA
    # release than the wheel's): torch only ever runs on the CPU here.
    missing = sorted({n for deps, _, _ in per_lib.values() for n in deps
                      if n not in shipped and (CUDA_LIB.match(n) or not system_has(n))})
    stubs = {soname: {} for soname in missing}
    for path, (deps, vfiles, undefined) in per_lib.items():
        first_missing = next((d for d in deps if d in stubs), None)
        for name, version, bind, sym_type in undefined:
            if version is not None:
                target = vfiles.get(version)
                if target in stubs:
                    stubs[target].setdefault(version, {})[name] = sym_type
            elif (first_missing is not None and bind != "WEAK" and name not in defined_anywhere
                  and CUDA_SYMBOL.match(name)):
                # Unversioned: the C entry points of a missing library (cuFile, NCCL,
                # cuSPARSELt...); put in the first stub this library loads.
                stubs[first_missing].setdefault(None, {})[name] = sym_type
    with tempfile.TemporaryDirectory() as tmp:
        for soname, by_version in stubs.items():
            src = os.path.join(tmp, soname + ".c")
            script = os.path.join(tmp, soname + ".map")
            symbols = {n: t for syms in by_version.values() for n, t in syms.items()}
            with open(src, "w") as f:
                f.write(stub_source(soname, symbols))
            versions = sorted(v for v in by_version if v is not None)
            cmd = ["cc", "-shared", "-fPIC", "-O0", "-w", "-o", os.path.join(lib_dir, soname),
                   f"-Wl,-soname,{soname}", src]
            if versions:
                # An unversioned reference binds to a symbol's default version too.
                unversioned = by_version.get(None, {})
                with open(script, "w") as f:
                    for i, version in enumerate(versions):
                        names = set(by_version[version]) | (set(unversioned) if i == 0 else set())
                        f.write(f"{version} {{ global: {'; '.join(sorted(names))}; }};\n")
                cmd.insert(-1, f"-Wl,--version-script={script}")
            subprocess.run(cmd, check=True)
            print(f"torch_cuda_stubs: {soname}: {len(symbols)} symbols")


if __name__ == "__main__":
    main()
