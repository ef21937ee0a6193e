"""`ems-stack package`: one AWS Lambda zip per service, reproducible from uv.lock.

Every service's dependencies are the ones uv.lock pins (`uv export`), installed as wheels for
Lambda's Python 3.13 on x86_64, whatever machine builds them. The scheduler is built by
`zappa package` (its handler.py is the API's Lambda entry point; the compile worker uses the
same zip); the other services are plain `uv pip install --target` trees. Either way the zip is
then written afresh with sorted entries, one timestamp and one file mode, and without bytecode
or the installer's records of this machine, so the same lock and sources give the same bytes.

services/scheduler/zappa_settings.json has one stage for every environment (Terraform owns the
function, its API, role and EMS_* variables). There `use_precompiled_packages` is off (zappa
would swap in wheels it downloads itself), `aws_region` is unset (zappa would write it into the
zip as a forced AWS_REGION), and zappa's build-only dependencies are excluded.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import sys
import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ems_devstack.processes import StackError, run

SERVICES = ("scheduler", "launcher", "sender", "tracker")
ZAPPA_SERVICE = "scheduler"
ZAPPA_STAGE = "lambda"  # the stage in services/scheduler/zappa_settings.json
ZAPPA_EXTRA = "lambda"  # ems-scheduler's optional dependencies that bring zappa
# zappa's dependencies that ship no wheel, so are built here. Nothing imports placebo (a test
# helper), and zappa_settings.json keeps it out of the zip.
ZAPPA_SOURCE_BUILDS = ("placebo",)

LAMBDA_PYTHON = (3, 13)
LAMBDA_PLATFORM = "x86_64-manylinux2014"
# Lambda's limits: a zip uploaded directly (not through S3), and the unzipped function.
LAMBDA_ZIP_LIMIT_BYTES = 50 * 1024 * 1024
LAMBDA_UNZIPPED_LIMIT_BYTES = 250 * 1024 * 1024
# The workspace members' build backend. uv.lock does not lock build dependencies, and the
# version is written into each member's dist-info/WHEEL, so it is pinned here.
HATCHLING_BUILD_CONSTRAINT = "hatchling==1.33.0"

ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip entry can hold
ZIP_FILE_MODE = 0o644
ZIP_COMPRESS_LEVEL = 9
# What an installer writes about this one install (absolute paths, cache timestamps, hashes of
# scripts whose shebang names this machine's Python): nothing a function reads at run time.
INSTALL_RECORDS = frozenset(
    {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json", "uv_cache.json", "uv_build.json"}
)
# Left at the root by an install, read by no function: console scripts (their shebang names
# this machine's Python), uv's lock on a --target folder, zappa's build id (a random uuid, the
# time and the user).
LEFT_OUT_AT_ROOT = frozenset({"bin", ".lock", "package_info.json"})
STEP_DEADLINE_S = 600.0


class PackageError(StackError):
    """A Lambda zip could not be built, or is too large for Lambda."""


@dataclass(frozen=True)
class LambdaZip:
    """One service's zip, as written."""

    service: str
    path: Path
    zip_bytes: int
    unzipped_bytes: int
    sha256: str
    seconds: float


def is_packaged(relative: PurePosixPath) -> bool:
    """Whether a file of an installed tree belongs in a Lambda zip.

    Out: bytecode (Lambda compiles what it imports), the installer's records of this install,
    and what `LEFT_OUT_AT_ROOT` names.
    """
    parts = relative.parts
    if "__pycache__" in parts or relative.suffix in {".pyc", ".pyo"}:
        return False
    if parts[0] in LEFT_OUT_AT_ROOT:
        return False
    return not (len(parts) == 2 and parts[0].endswith(".dist-info") and parts[1] in INSTALL_RECORDS)


def write_reproducible_zip(tree: Path, destination: Path) -> int:
    """Zip the files under `tree` that `is_packaged`, the same bytes for the same files.

    Entries are sorted by path and carry one timestamp and one mode, so nothing of the build
    (time, order on disk, umask, owner) reaches the zip. Returns the unzipped size in bytes.
    """
    files = sorted(
        (PurePosixPath(path.relative_to(tree).as_posix()) for path in tree.rglob("*")),
        key=str,
    )
    unzipped = 0
    destination.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(destination, "w") as archive:
        for relative in files:
            source = tree / relative
            if not source.is_file() or not is_packaged(relative):
                continue
            entry = zipfile.ZipInfo(str(relative), date_time=ZIP_TIMESTAMP)
            entry.create_system = 3  # Unix, so that external_attr holds the mode
            entry.external_attr = (stat.S_IFREG | ZIP_FILE_MODE) << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.compress_level = ZIP_COMPRESS_LEVEL
            with source.open("rb") as reader, archive.open(entry, "w") as writer:
                shutil.copyfileobj(reader, writer, 1024 * 1024)
            unzipped += source.stat().st_size
    return unzipped


def check_lambda_limits(service: str, zip_bytes: int, unzipped_bytes: int) -> None:
    """Raise a PackageError if Lambda would refuse this zip, saying what to do about it."""
    problems = []
    if zip_bytes > LAMBDA_ZIP_LIMIT_BYTES:
        problems.append(
            f"the zip is {_mib(zip_bytes)} ({zip_bytes:,} bytes), over Lambda's"
            f" {_mib(LAMBDA_ZIP_LIMIT_BYTES)} limit for a direct upload (upload it through S3)"
        )
    if unzipped_bytes > LAMBDA_UNZIPPED_LIMIT_BYTES:
        problems.append(
            f"it unzips to {_mib(unzipped_bytes)} ({unzipped_bytes:,} bytes), over Lambda's"
            f" {_mib(LAMBDA_UNZIPPED_LIMIT_BYTES)} limit for a function"
        )
    if problems:
        raise PackageError(
            f"{service}: {'; '.join(problems)}. Drop dependencies of ems-{service}"
            f" (`uv tree --package ems-{service}` shows what pulls them in)."
        )


def sha256_of(path: Path) -> str:
    """The file's SHA-256, in hex."""
    digest = hashlib.sha256()
    with path.open("rb") as reader:
        while chunk := reader.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def find_uv(root: Path) -> str:
    """The uv the Makefile uses: $UV (set by `uv run`), else .ems/tools/bin/uv, else PATH."""
    for candidate in (os.environ.get("UV"), str(root / ".ems" / "tools" / "bin" / "uv")):
        if candidate and Path(candidate).is_file():
            return candidate
    found = shutil.which("uv")
    if not found:
        raise PackageError("uv is not installed: run `make install` (it bootstraps uv)")
    return found


def lambda_python() -> str:
    """This interpreter, which must be Lambda's Python: uv cannot download one here."""
    if sys.version_info[:2] != LAMBDA_PYTHON:
        wanted = ".".join(map(str, LAMBDA_PYTHON))
        raise PackageError(
            f"packaging needs Python {wanted} (Lambda's runtime), but runs on"
            f" {sys.version.split()[0]}: run it as `make package`, from the workspace venv"
        )
    return sys.executable


class Packager:
    """Builds the services' zips into `out`, with scratch folders under .ems/package/."""

    def __init__(self, root: Path, out: Path) -> None:
        self.root = root
        self.out = out
        self.work = root / ".ems" / "package"
        self.uv = find_uv(root)
        self.python = lambda_python()

    def build(self, service: str) -> LambdaZip:
        """Build, check and place `out/<service>.zip`."""
        started = time.monotonic()
        work = self.work / service
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        target = self.out / f"{service}.zip"
        target.unlink(missing_ok=True)  # a stale zip must not pass for this build's
        (work / "build-constraints.txt").write_text(HATCHLING_BUILD_CONSTRAINT + "\n")
        tree = (
            self._zappa_tree(service, work)
            if service == ZAPPA_SERVICE
            else self._tree(service, work)
        )
        _progress(service, "zipping")
        built = work / f"{service}.zip"
        unzipped = write_reproducible_zip(tree, built)
        zip_bytes = built.stat().st_size
        check_lambda_limits(service, zip_bytes, unzipped)
        self.out.mkdir(parents=True, exist_ok=True)
        shutil.move(built, target)
        result = LambdaZip(
            service, target, zip_bytes, unzipped, sha256_of(target), time.monotonic() - started
        )
        _progress(service, f"{target} in {result.seconds:.1f} s")
        return result

    def _tree(self, service: str, work: Path) -> Path:
        requirements = self._export(service, work)
        tree = work / "tree"
        _progress(service, "installing the locked wheels")
        self._uv_step(
            service, work, "pip", "install", "--python", self.python, "--target", str(tree),
            *self._install_options(service, work, []), "-r", str(requirements),
        )  # fmt: skip
        return tree

    def _zappa_tree(self, service: str, work: Path) -> Path:
        requirements = self._export(service, work, extra=ZAPPA_EXTRA)
        venv = work / "venv"
        _progress(service, "installing the locked wheels and zappa into a virtualenv")
        self._uv_step(service, work, "venv", "--quiet", "--python", self.python, str(venv))
        self._uv_step(
            service, work, "pip", "install", "--python", str(venv / "bin" / "python"),
            *self._install_options(service, work, ZAPPA_SOURCE_BUILDS), "-r", str(requirements),
        )  # fmt: skip
        _progress(service, "zappa package")
        project = work / "project"  # zappa zips its working folder too: an empty one
        (work / "tmp").mkdir()
        project.mkdir()
        zappa_zip = work / "zappa.zip"
        settings = self.root / "services" / service / "zappa_settings.json"
        run(
            [
                str(venv / "bin" / "zappa"), "package", ZAPPA_STAGE, "--settings_file",
                str(settings), "--output", str(zappa_zip), "--disable_progress",
                "--json",  # also skips zappa's check for a newer release on PyPI
            ],
            what=f"zappa package ({service})",
            deadline_s=STEP_DEADLINE_S,
            env=_zappa_environment(venv, work / "tmp"),
            cwd=project,
            log_file=work / "build.log",
        )  # fmt: skip
        tree = work / "tree"
        with zipfile.ZipFile(zappa_zip) as archive:
            archive.extractall(tree)
        missing = [
            name for name in ("handler.py", "zappa_settings.py") if not (tree / name).is_file()
        ]
        if missing:
            raise PackageError(f"zappa's zip for {service} lacks {', '.join(missing)}")
        return tree

    def _export(self, service: str, work: Path, extra: str | None = None) -> Path:
        _progress(service, "exporting requirements from uv.lock")
        requirements = work / "requirements.txt"
        extras = ["--extra", extra] if extra else []
        self._uv_step(
            service, work, "export", "--package", f"ems-{service}", "--no-dev", "--frozen",
            "--no-editable", "--quiet", *extras, "--output-file", str(requirements),
        )  # fmt: skip
        return requirements

    def _install_options(self, service: str, work: Path, source_builds: Sequence[str]) -> list[str]:
        # Wheels only, but for the workspace's own packages (built with hatchling) and the
        # few dependencies that ship none.
        workspace = ["ems-common", f"ems-{service}"]
        return [
            "--quiet",
            "--no-deps",  # the export is the whole locked set: nothing to resolve
            "--python-platform", LAMBDA_PLATFORM,
            "--python-version", ".".join(map(str, LAMBDA_PYTHON)),
            "--only-binary", ":all:",
            *(option for name in (*workspace, *source_builds) for option in ("--no-binary", name)),
            # uv reuses its cached build of a workspace package until its pyproject.toml or the
            # entries of src/ itself change: an edited module would not be packaged.
            *(option for name in workspace for option in ("--refresh-package", name)),
            "--build-constraints", str(work / "build-constraints.txt"),
            "--link-mode", "copy",  # no hard links into uv's cache from a tree zappa chmods
        ]  # fmt: skip

    def _uv_step(self, service: str, work: Path, *args: str) -> None:
        run(
            [self.uv, *args],
            what=f"uv {args[0]} ({service})",
            deadline_s=STEP_DEADLINE_S,
            cwd=self.root,  # the export names the workspace members by paths from here
            log_file=work / "build.log",
        )


def _zappa_environment(venv: Path, tmp: Path) -> dict[str, str]:
    """A clean environment: `zappa package` needs no AWS access (it loads no credentials).

    No AWS_REGION and no AWS config files, because zappa writes the region it finds into the
    zip's settings; no instance metadata either, so nothing leaves the machine.
    """
    return {
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', os.defpath)}",
        "HOME": os.environ.get("HOME", str(tmp)),
        "LANG": "C.UTF-8",
        "VIRTUAL_ENV": str(venv),  # the venv zappa zips
        "PYTHONDONTWRITEBYTECODE": "1",
        "TMPDIR": str(tmp),
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def package(root: Path, out: Path, services: Sequence[str] = SERVICES) -> list[LambdaZip]:
    """Build the zips of `services` into `out`, print a summary table, return what was built."""
    packager = Packager(root, out)
    built = [packager.build(service) for service in services]
    print(render_table(built), flush=True)
    return built


def render_table(built: Sequence[LambdaZip]) -> str:
    """The summary: service, zip size, unzipped size, sha256."""
    lines = [f"{'service':10} {'zip':>10} {'unzipped':>10} {'seconds':>8}  sha256"]
    lines += [
        f"{item.service:10} {_mib(item.zip_bytes):>10} {_mib(item.unzipped_bytes):>10}"
        f" {item.seconds:>8.1f}  {item.sha256}"
        for item in built
    ]
    return "\n".join(lines)


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB"


def _progress(service: str, step: str) -> None:
    print(f"[package] {service}: {step}", flush=True)
