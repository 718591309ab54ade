"""Test helpers: digests of every backed-up table, and building (or tampering with) archives."""

import hashlib
import json
import zipfile
from pathlib import Path

from config_api.backups.registry import application_tables


def table_digests(*, policies=("replace",)) -> dict[str, str]:
    """sha256 of every row (all concrete columns, by primary key) of each backed-up table."""
    digests = {}
    for table in application_tables():
        if table.policy not in policies:
            continue
        names = [field.attname for field in table.model._meta.concrete_fields]
        rows = list(table.model._base_manager.order_by("pk").values_list(*names))
        digests[table.label] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return digests


def read_archive(path: Path) -> tuple[dict, dict[str, bytes]]:
    with zipfile.ZipFile(path) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        files = {entry["file"]: zf.read(entry["file"]) for entry in manifest["tables"]}
    return manifest, files


def write_archive_files(path: Path, manifest: dict, files: dict[str, bytes], *, rehash: bool = True) -> None:
    """Write an archive; with ``rehash`` the manifest's table and payload checksums match the files."""
    if rehash:
        payload = hashlib.sha256()
        for entry in manifest["tables"]:
            data = files[entry["file"]]
            entry["sha256"] = hashlib.sha256(data).hexdigest()
            entry["rows"] = data.count(b"\n")
            payload.update(data)
        manifest["payload_sha256"] = payload.hexdigest()
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
        zf.writestr("manifest.json", json.dumps(manifest))


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
