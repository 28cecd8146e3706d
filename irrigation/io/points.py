"""Point features in any declared CRS, projected to the city's CRS.

Shared by the readers of tree cadastres, refill points and sites. A GeoJSON file gives
its CRS in the legacy ``crs`` member (GeoJSON 2008: ``{"type": "name", "properties":
{"name": "urn:ogc:def:crs:EPSG::25833"}}``, or ``{"type": "EPSG", "properties": {"code":
25833}}``); without one it is WGS84 longitude/latitude, as RFC 7946 requires. A CSV file
has coordinate columns whose CRS the caller states. Coordinates are always read in
x, y (easting, northing; longitude, latitude) order.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError

#: CRS of a GeoJSON file without a ``crs`` member (RFC 7946 section 4): WGS84 lon/lat.
GEOJSON_DEFAULT_CRS = "OGC:CRS84"


@dataclass(frozen=True)
class PointTable:
    """Point features as a table.

    Attributes
    ----------
    properties
        One row per feature (all values as text, ``None`` where absent), index 0..n-1.
    x, y
        Coordinates in ``crs`` (easting/northing or longitude/latitude), shape (n,).
    crs
        The CRS the coordinates are in, as given by the file or the caller.
    line
        Where each row came from: the 1-based CSV line, or the feature index for GeoJSON.
    """

    properties: pd.DataFrame
    x: np.ndarray
    y: np.ndarray
    crs: str
    line: np.ndarray


def read_geojson_points(path: str | Path) -> PointTable:
    """Read the Point features of a GeoJSON FeatureCollection, in the CRS it declares.

    Raises
    ------
    InputError
        Not JSON, not a FeatureCollection, a feature that is not a Point with two finite
        numbers, or a ``crs`` member that is not understood.
    """
    path = Path(path)
    try:
        doc = json.loads(path.read_bytes().decode("utf-8-sig"))
    except FileNotFoundError:
        raise InputError("file not found", file=path) from None
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise InputError(f"not valid JSON ({str(exc)[:80]})", file=path) from None
    feats = doc.get("features") if isinstance(doc, dict) else None
    if not isinstance(feats, list):
        raise InputError("expected a GeoJSON FeatureCollection with a 'features' list",
                         file=path)
    crs = declared_crs(doc, path)
    rows, xs, ys = [], [], []
    for i, feat in enumerate(feats):
        where = f"features[{i}]"
        if not isinstance(feat, dict):
            raise InputError("expected a Feature object", file=path, field=where)
        geom = feat.get("geometry")
        coords = geom.get("coordinates") if isinstance(geom, dict) else None
        if (not isinstance(geom, dict) or geom.get("type") != "Point"
                or not isinstance(coords, list) or len(coords) < 2
                or not all(_is_number(c) for c in coords[:2])):
            raise InputError("expected a Point geometry with numeric coordinates [x, y]",
                             file=path, field=f"{where}.geometry")
        props = feat.get("properties")
        if props is not None and not isinstance(props, dict):
            raise InputError("expected 'properties' to be an object", file=path,
                             field=f"{where}.properties")
        if "id" in feat and not (props or {}).get("id"):
            props = {**(props or {}), "id": feat["id"]}
        rows.append({str(k): _text(v) for k, v in (props or {}).items()})
        xs.append(float(coords[0]))
        ys.append(float(coords[1]))
    x, y = np.array(xs, dtype=float), np.array(ys, dtype=float)
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        i = int(np.flatnonzero(~(np.isfinite(x) & np.isfinite(y)))[0])
        raise InputError("expected finite coordinates", file=path,
                         field=f"features[{i}].geometry")
    frame = pd.DataFrame(rows, index=pd.RangeIndex(len(rows)), dtype=object)
    frame = frame.astype(object).where(frame.notna(), None)
    return PointTable(frame, x, y, crs, np.arange(len(rows)))


def declared_crs(doc: dict, path: str | Path) -> str:
    """The CRS a GeoJSON document declares (legacy ``crs`` member), else WGS84 lon/lat."""
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    member = doc.get("crs")
    if member is None:
        return GEOJSON_DEFAULT_CRS
    props = member.get("properties") if isinstance(member, dict) else None
    kind = member.get("type") if isinstance(member, dict) else None
    if not isinstance(props, dict):
        raise InputError("expected a crs member {\"type\": \"name\", \"properties\": "
                         "{\"name\": ...}}", file=path, field="crs")
    if kind == "EPSG" and "code" in props:
        name = f"EPSG:{props['code']}"
    else:
        name = props.get("name")
    if not isinstance(name, str):
        raise InputError("expected crs.properties.name to be a CRS name such as "
                         "'urn:ogc:def:crs:EPSG::25833'", file=path, field="crs")
    try:
        CRS.from_user_input(name)
    except CRSError:
        raise InputError(f"CRS {name!r} not understood; expected e.g. "
                         "'urn:ogc:def:crs:EPSG::25833'", file=path, field="crs") from None
    return name


def check_city_crs(crs: str) -> None:
    """Raise an InputError unless ``crs`` is a projected CRS in metres."""
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        parsed = CRS.from_user_input(crs)
    except CRSError:
        raise InputError(f"CRS {crs!r} not understood; expected e.g. 'EPSG:25833'",
                         field="crs") from None
    units = {a.unit_name for a in parsed.axis_info}
    if not parsed.is_projected or units != {"metre"}:
        raise InputError(f"expected a projected CRS in metres for the city (e.g. "
                         f"EPSG:25832 or EPSG:25833), got {crs!r}", field="crs")


def project(table: PointTable, crs: str, file: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """The points of ``table`` in the city CRS ``crs`` [m].

    Raises
    ------
    InputError
        ``crs`` is not projected metric, geographic coordinates are outside
        [-180, 180] x [-90, 90] (a file that does not declare its projected CRS), or a
        point cannot be transformed.
    """
    from pyproj import CRS, Transformer

    check_city_crs(crs)
    source = CRS.from_user_input(table.crs)
    if source.is_geographic and len(table.x):
        bad = (np.abs(table.x) > 180) | (np.abs(table.y) > 90)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(
                f"coordinates ({table.x[i]:g}, {table.y[i]:g}) are not longitude/latitude "
                f"as {table.crs} declares; state the file's CRS (GeoJSON 'crs' member, "
                "or the mapping's crs for a CSV)", file=file, **_where(table, i))
    tr = Transformer.from_crs(source, crs, always_xy=True)
    x, y = tr.transform(table.x, table.y)
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.all():
        i = int(np.flatnonzero(~ok)[0])
        raise InputError(f"point ({table.x[i]:g}, {table.y[i]:g}) cannot be projected from "
                         f"{table.crs} to {crs}", file=file, **_where(table, i))
    return x, y


def lonlat(table: PointTable, file: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """The points of ``table`` as WGS84 longitude, latitude [degrees].

    Raises
    ------
    InputError
        A point cannot be transformed.
    """
    from pyproj import CRS, Transformer

    source = CRS.from_user_input(table.crs)
    if source.is_geographic:
        return np.asarray(table.x, float), np.asarray(table.y, float)
    tr = Transformer.from_crs(source, "EPSG:4326", always_xy=True)
    lon, lat = (np.asarray(v, dtype=float) for v in tr.transform(table.x, table.y))
    ok = np.isfinite(lon) & np.isfinite(lat)
    if not ok.all():
        i = int(np.flatnonzero(~ok)[0])
        raise InputError(f"point ({table.x[i]:g}, {table.y[i]:g}) cannot be transformed from "
                         f"{table.crs} to longitude/latitude", file=file, **_where(table, i))
    return lon, lat


def _where(table: PointTable, i: int) -> dict:
    """InputError location of row ``i``: a CSV line or a GeoJSON feature."""
    if table.properties.attrs.get("csv", False):
        return {"row": int(table.line[i])}
    return {"field": f"features[{int(table.line[i])}]"}


def _is_number(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _text(v) -> str | None:
    """A JSON property value as text (``None`` stays ``None``)."""
    if v is None:
        return None
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, int | float):
        return str(v)
    return json.dumps(v, ensure_ascii=False)[:200]


def csv_points(frame: pd.DataFrame, x: str, y: str, crs: str, file: str | Path,
               first_line: int = 2) -> PointTable:
    """Points from the coordinate columns ``x``, ``y`` (in ``crs``) of a text table.

    Raises
    ------
    InputError
        A coordinate column is missing, or a value is not a finite number (naming the
        line and column).
    """
    for col in (x, y):
        if col not in frame.columns:
            raise InputError(f"missing coordinate column {col!r}; found "
                             f"{', '.join(map(str, frame.columns))}", file=file)
    values = {}
    for col in (x, y):
        raw = frame[col]
        num = pd.to_numeric(raw.astype("string").str.strip(), errors="coerce")
        bad = ~np.isfinite(num.to_numpy(dtype=float, na_value=np.nan))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(f"expected a number, got {raw.iloc[i]!r}", file=file,
                             row=first_line + i, field=col)
        values[col] = num.to_numpy(dtype=float)
    props = frame.drop(columns=[x, y]).reset_index(drop=True)
    props.attrs["csv"] = True
    return PointTable(props, values[x], values[y], crs,
                      np.arange(first_line, first_line + len(frame)))


def read_csv_table(path: str | Path, *, delimiter: str = ",", encoding: str = "utf-8"
                   ) -> pd.DataFrame:
    """A delimited text file as a table of text (header on line 1, empty cells ``None``).

    Raises
    ------
    InputError
        The file is missing, empty, not in ``encoding`` or not parseable.
    """
    path = Path(path)
    try:
        frame = pd.read_csv(path, sep=delimiter, dtype=str, keep_default_na=False,
                            encoding=encoding, encoding_errors="strict")
    except FileNotFoundError:
        raise InputError("file not found", file=path) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError,
            LookupError, ValueError) as exc:
        raise InputError(f"not a readable {delimiter!r}-separated text file in {encoding} "
                         f"({str(exc).splitlines()[0][:100] if str(exc) else type(exc).__name__})",
                         file=path) from None
    frame.columns = [str(c).strip().lstrip("\ufeff") for c in frame.columns]
    return frame.astype(object).where(frame != "", None)
