"""Species names of a tree cadastre matched to the species table; city species tables.

The species table (``irrigation/data/species.csv``, format in ``irrigation/data/README.md``)
has, besides the water-use columns, ``genus`` (Latin genus) and ``german_names`` (German
names, ``|``-separated). A row whose ``species`` equals its ``genus`` (e.g. ``Tilia``) is
a genus-level entry, used for trees whose species is not in the table.

Matching rules, in this order (:func:`match_species`):

1. **species**: the cadastre's species text equals a species-level row's Latin name or
   one of its German names;
2. **genus**: the cadastre's genus text (e.g. ``LINDE``, ``Tilia``) equals the Latin
   genus or a German name of a genus-level row;
3. **genus from name**: the genus taken from the species text itself, the first word of
   a Latin name (``Tilia tomentosa`` -> Tilia) or the last part of a German compound name
   (``Silber-Linde`` -> Linde), matches a genus-level row;
4. otherwise the tree is **unmatched** and gets the default species; unmatched names are
   counted.

Names are compared after normalisation (:func:`name_key`): cultivar names in quotes are
dropped (``Winter-Linde 'Greenspire'`` -> Winter-Linde), case, ``ß``/``ss``, umlauts/``ae``,
hyphens and spaces are ignored, ``×`` is ``x``; a text listing alternatives separated by
``,`` or ``/`` (``Berg-Ahorn, Weiss-Ahorn``) matches when one of them does.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from .soil_tables import read_species

#: Optional name columns of the species table.
NAME_COLUMNS = ("genus", "german_names")

#: Separator of several German names in one cell of ``german_names``.
NAME_SEPARATOR = "|"

#: The match rules in the order they are tried (see the module docstring).
MATCH_RULES = ("species", "genus", "genus from name", "unmatched")

_CULTIVAR = re.compile(r"['\"‘’„“”`´][^'\"‘’„“”`´]*['\"‘’„“”`´]?")
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "×": "x"})
_ALTERNATIVES = re.compile(r"[,/;]")


def name_key(text: str | None) -> str:
    """The normalised comparison key of a plant name ('' for none).

    >>> name_key("Winter-Linde 'Greenspire'") == name_key("winterlinde")
    True
    """
    if text is None:
        return ""
    text = _CULTIVAR.sub(" ", unicodedata.normalize("NFC", str(text)))
    text = text.casefold().translate(_UMLAUTS)  # casefold: ß -> ss
    return re.sub(r"[^0-9a-z]+", "", text)


def _alternatives(text: str | None) -> list[str]:
    if text is None:
        return []
    return [k for k in (name_key(p) for p in _ALTERNATIVES.split(str(text))) if k]


def _genus_keys(text: str | None) -> list[str]:
    """Genus candidates of a species name: Latin first word, German last compound part."""
    out = []
    for part in _ALTERNATIVES.split(str(text or "")):
        words = _CULTIVAR.sub(" ", part).split()
        if not words:
            continue
        out.append(name_key(words[0]))
        out.append(name_key(re.split(r"[-\s]", words[-1])[-1]))
    return [k for k in out if k]


#: Packaged table of genus-level rows and the default ``tree (unspecified)``, kept apart
#: from ``species.csv`` (whose rows the truth model draws per row, see the data README).
GENERA_TABLE = "species_genera.csv"


def read_species_table(path: str | Path | None = None) -> pd.DataFrame:
    """A species table with its name columns.

    ``None`` gives the packaged tables: ``species.csv`` with the genus-level rows of
    ``species_genera.csv`` appended (:func:`merge_species_tables`). A path gives that
    table alone (e.g. a city's own ``species.csv``, to merge over the packaged one). The
    water-use columns are read and checked by
    :func:`irrigation.io.soil_tables.read_species`; ``genus`` and ``german_names`` are
    optional text columns (empty when absent).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``species``.
    """
    if path is None:
        from importlib import resources

        data = resources.files("irrigation") / "data"
        with resources.as_file(data / "species.csv") as a, \
                resources.as_file(data / GENERA_TABLE) as b:
            return merge_species_tables(read_species_table(a), read_species_table(b))
    table = read_species(path)
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    raw = raw.set_index(raw["species"].str.strip())
    for col in NAME_COLUMNS:
        table[col] = raw[col].str.strip() if col in raw else ""
    return table


def merge_species_tables(packaged: pd.DataFrame, city: pd.DataFrame) -> pd.DataFrame:
    """The packaged species table extended and overridden by a city's own table.

    A city row whose ``species`` is in ``packaged`` replaces that row (all columns); other
    city rows are added at the end. Columns missing in one table are empty text.

    Parameters
    ----------
    packaged, city
        Species tables indexed by ``species`` (as :func:`read_species_table` returns).

    Returns
    -------
    pandas.DataFrame
        The merged table; ``attrs["overridden"]`` lists the replaced species and
        ``attrs["added"]`` the new ones.
    """
    columns = list(dict.fromkeys([*packaged.columns, *city.columns]))
    base = packaged.reindex(columns=columns)
    extra = city.reindex(columns=columns)
    overridden = [s for s in city.index if s in base.index]
    added = [s for s in city.index if s not in base.index]
    merged = pd.concat([base.drop(index=overridden), extra]).loc[[*base.index, *added]]
    for col in NAME_COLUMNS:
        if col in merged:
            merged[col] = merged[col].fillna("")
    merged.attrs = {"overridden": overridden, "added": added}
    return merged


@dataclass(frozen=True)
class SpeciesIndex:
    """Lookup keys of a species table: name key -> species, for species and genus rows."""

    species: dict[str, str]
    genus: dict[str, str]

    @classmethod
    def of(cls, table: pd.DataFrame, source: str = "species table") -> SpeciesIndex:
        """Build the index; a name that would mean two species is an InputError."""
        by_species: dict[str, str] = {}
        by_genus: dict[str, str] = {}
        genus_col = table["genus"] if "genus" in table else pd.Series("", index=table.index)
        names_col = (table["german_names"] if "german_names" in table
                     else pd.Series("", index=table.index))
        for species, genus, names in zip(table.index, genus_col, names_col, strict=True):
            is_genus = bool(genus) and name_key(genus) == name_key(species)
            target = by_genus if is_genus else by_species
            keys = [name_key(species), *(name_key(n) for n in str(names or "").split(
                NAME_SEPARATOR))]
            for key in filter(None, keys):
                if target.get(key, species) != species:
                    raise InputError(
                        f"name {key!r} would mean both {target[key]!r} and {species!r}; "
                        "expected each name once among the "
                        f"{'genus' if is_genus else 'species'}-level rows",
                        file=source, field="german_names")
                target[key] = species
        return cls(by_species, by_genus)


@dataclass
class SpeciesMatch:
    """The result of :func:`match_species`.

    Attributes
    ----------
    species
        The matched species key per tree (the default for unmatched trees).
    rule
        The rule that matched, one of :data:`MATCH_RULES`, per tree.
    unmatched
        Unmatched names (species text, else genus text) with their number of trees,
        most frequent first.
    """

    species: np.ndarray
    rule: np.ndarray
    unmatched: dict[str, int] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        """Number of trees per rule, in the order of :data:`MATCH_RULES`."""
        c = Counter(self.rule.tolist())
        return {r: c.get(r, 0) for r in MATCH_RULES}


def match_species(names, genera, table: pd.DataFrame, *, default: str) -> SpeciesMatch:
    """Match cadastre species/genus texts to the species table (rules in the module doc).

    Parameters
    ----------
    names, genera
        Per tree: species text (Latin or German, ``None`` if absent) and genus text.
    table
        Species table indexed by ``species``, with ``genus``/``german_names`` columns.
    default
        Species given to unmatched trees; must be in ``table``.
    """
    if default not in table.index:
        raise InputError(f"default species {default!r} is not in the species table",
                         field="defaults.species")
    index = SpeciesIndex.of(table)
    names = pd.Series(list(names), dtype=object)
    genera = pd.Series(list(genera), dtype=object) if genera is not None else \
        pd.Series([None] * len(names), dtype=object)
    pairs = pd.DataFrame({"name": names, "genus": genera}).fillna("")
    species = np.empty(len(pairs), dtype=object)
    rule = np.empty(len(pairs), dtype=object)
    unmatched: Counter[str] = Counter()
    if len(pairs) == 0:
        return SpeciesMatch(species, rule)
    # unique (name, genus) pairs only: a cadastre repeats a few hundred names many times
    codes, uniques = pd.MultiIndex.from_frame(pairs).factorize()
    for k, (name, genus) in enumerate(uniques):
        found, how = _match_one(name or None, genus or None, index)
        at = codes == k
        species[at] = found or default
        rule[at] = how
        if found is None:
            unmatched[str(name or genus or "(none)")] += int(at.sum())
    return SpeciesMatch(species, rule, dict(unmatched.most_common()))


def _match_one(name: str | None, genus: str | None, index: SpeciesIndex
               ) -> tuple[str | None, str]:
    for key in _alternatives(name):
        if key in index.species:
            return index.species[key], "species"
    for key in _alternatives(genus):
        if key in index.genus:
            return index.genus[key], "genus"
    for key in _genus_keys(name):
        if key in index.genus:
            return index.genus[key], "genus from name"
    return None, "unmatched"
