"""Handing out an AIP exactly as stored (a zipped BagIt bag)."""

from __future__ import annotations

from pathlib import Path

from dangan.packages.aip import export_aip_zip

from . import catalogue
from .errors import ConflictError, StoreError
from .instance import Archive


def export_aip(archive: Archive, ref: str, dest: Path) -> dict[str, str]:
    """Write the AIP named by ``ref`` (AIP id or archival code) to ``dest`` (.zip)."""
    with archive.db.session() as session:
        found = catalogue.lookup(session, ref)
        aip_id, code = found.item.aip_id, found.item.archival_code
    path = archive.store.path(aip_id)
    if not path.is_dir():
        raise StoreError(f"目录中登记的 AIP {aip_id} 在存储中不存在：请运行完整性核查")
    if dest.exists():
        raise ConflictError(f"目标文件 {dest} 已存在：不覆盖，请换一个文件名")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    export_aip_zip(path, tmp)
    tmp.rename(dest)
    return {"aip_id": aip_id, "archival_code": code, "path": str(dest)}
