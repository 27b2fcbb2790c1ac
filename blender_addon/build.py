"""Build the installable extension zip: ``python blender_addon/build.py --out dist/``.

Produces ``avatar_driver_blender-<version>.zip`` laid out like
``blender --command extension build`` does (manifest at the zip root, the manifest's
``paths_exclude_pattern`` honoured). With ``--blender PATH`` it runs that command instead.
The add-on needs no third-party package, so there are no wheels to bundle.
"""

from __future__ import annotations

import argparse
import fnmatch
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
MANIFEST = "blender_manifest.toml"
_REQUIRED = ("schema_version", "id", "version", "name", "tagline", "maintainer", "type",
             "blender_version_min", "license")  # fmt: skip


def _manifest() -> dict:
    data = tomllib.loads((HERE / MANIFEST).read_text(encoding="utf-8"))
    missing = [k for k in _REQUIRED if k not in data]
    if missing:
        raise SystemExit(f"{MANIFEST}: missing {', '.join(missing)}")
    for k, reason in data.get("permissions", {}).items():
        if not reason or reason.endswith(".") or len(reason) > 64:
            raise SystemExit(f"{MANIFEST}: permission {k!r} needs a reason under 64 chars, no '.'")
    if data["tagline"].endswith(".") or len(data["tagline"]) > 64:
        raise SystemExit(f"{MANIFEST}: tagline must be under 64 chars without a trailing '.'")
    return data


def _excluded(rel: str, is_dir: bool, patterns: list[str]) -> bool:
    """gitignore-style subset used by Blender: '/x' anchors at the root, 'x/' matches dirs."""
    name = rel.rsplit("/", 1)[-1]
    for pat in patterns:
        anchored = pat.startswith("/")
        p = pat.lstrip("/")
        if p.endswith("/"):
            if not is_dir:
                continue
            p = p.rstrip("/")
        target = rel if anchored else name
        if fnmatch.fnmatchcase(target, p):
            return True
    return False


def files_to_ship(manifest: dict) -> list[Path]:
    patterns = list(manifest.get("build", {}).get("paths_exclude_pattern", []))
    out: list[Path] = []

    def walk(d: Path) -> None:
        for p in sorted(d.iterdir()):
            rel = p.relative_to(HERE).as_posix()
            if _excluded(rel, p.is_dir(), patterns):
                continue
            if p.is_dir():
                walk(p)
            else:
                out.append(p)

    walk(HERE)
    return out


def build(out_dir: Path, blender: str | None = None) -> Path:
    manifest = _manifest()
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{manifest['id']}-{manifest['version']}.zip"
    if blender:
        subprocess.run(
            [blender, "--command", "extension", "build", "--source-dir", str(HERE),
             "--output-filepath", str(target)],
            check=True,
        )  # fmt: skip
        return target
    files = files_to_ship(manifest)
    if HERE / MANIFEST not in files or HERE / "__init__.py" not in files:
        raise SystemExit("the manifest and __init__.py must be shipped")
    tmp = target.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in files:
            zf.write(p, p.relative_to(HERE).as_posix())
    tmp.replace(target)
    return target


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("dist"), help="output directory")
    ap.add_argument("--blender", help="use this Blender's 'extension build' instead")
    args = ap.parse_args(argv)
    print(build(args.out, args.blender))
    return 0


if __name__ == "__main__":
    sys.exit(main())
