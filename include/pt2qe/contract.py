"""The source contract (shared/spec/SOURCE_CONTRACT.md) as data.

One place lists every source table, its columns, their types and whether they are
required. The file source, the SQL source, the loader, the demo generator and the
checks all read it; nothing else spells out a source column.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ColumnType = Literal["TEXT", "DATE", "NUMERIC", "INTEGER"]

PG_TYPES: dict[str, str] = {
    "TEXT": "text",
    "DATE": "date",
    "NUMERIC": "numeric",
    "INTEGER": "bigint",
}

# What the warehouse types above hold (PostgreSQL's numeric and bigint): a source value
# beyond them is refused at extract, with its file, line and column.
NUMERIC_MAX_DIGITS_BEFORE_POINT = 131_072
NUMERIC_MAX_DIGITS_AFTER_POINT = 16_383
INTEGER_MIN, INTEGER_MAX = -(2**63), 2**63 - 1


@dataclass(frozen=True)
class Column:
    name: str  # upper case, as in the contract
    type: ColumnType
    nullable: bool = False

    @property
    def pg_name(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Table:
    name: str  # upper case, as in the contract and the file names
    columns: tuple[Column, ...]
    key: tuple[str, ...]

    @property
    def pg_name(self) -> str:
        return self.name.lower()

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name.upper():
                return c
        raise KeyError(name)


def _t(name: str, key: tuple[str, ...], *cols: tuple) -> Table:
    return Table(name, tuple(Column(*c) for c in cols), key)


_BOUNDS = ("PL1_PL2", "PL2_PL3", "PL3_PL4", "PL4_PL5", "PL5_PL6", "PL6_PLX")
BOUND_COLUMNS: tuple[str, ...] = tuple(f"BORNE_{b}" for b in _BOUNDS)
NEW_BOUND_COLUMNS: tuple[str, ...] = tuple(f"NEW_BORNE_{b}" for b in _BOUNDS)

TABLES: tuple[Table, ...] = (
    _t(
        "SYS_MD_CALENDRIER_SYSCO",
        ("ID_SEM",),
        ("ID_SEM", "DATE"),
        ("DT_FIN_SEM", "DATE"),
        ("ID_TRIMESTRE_FISCAL", "TEXT"),
        ("ID_ANNEE_FISCALE", "TEXT"),
        ("FG_SEM_EN_COURS", "TEXT", True),
    ),
    _t(
        "SYS_MD_CLIENT",
        ("ID_CLN",),
        ("ID_CLN", "TEXT"),
        ("LC_CLN", "TEXT", True),
        ("ID_TC_CG", "TEXT"),
        ("ID_TC_CIBLE", "TEXT"),
        ("ID_SEGMENT", "TEXT", True),
        ("GEO", "TEXT", True),
        ("ID_KAM", "TEXT", True),
    ),
    _t(
        "SYS_MD_ARTICLE",
        ("ID_ART",),
        ("ID_ART", "TEXT"),
        ("LC_ART", "TEXT", True),
        ("ID_GMM", "TEXT", True),
        ("LC_HIC_SYSCO_N1", "TEXT", True),
        ("LC_HIC_SYSCO_N2", "TEXT", True),
        ("LC_ATTRIBUT", "TEXT", True),
        ("ID_GTIN13", "TEXT", True),
        ("FAMILLE_CONDITIONNEMENT", "TEXT", True),
    ),
    _t(
        "SYS_MD_CONDITION",
        ("ID_CND",),
        ("ID_CND", "TEXT"),
        ("ID_CLN", "TEXT"),
        ("ID_ART", "TEXT"),
        ("ID_TYP_CND", "TEXT"),
        ("ID_SEQ", "TEXT"),
        ("FG_CND_VLD", "TEXT", True),
        ("DT_DEB", "DATE"),
        ("DT_FIN", "DATE"),
    ),
    _t(
        "SYS_TARIF_SIMULATION",
        ("ID_CND",),
        ("ID_CND", "TEXT"),
        ("PRIX_TARIF_ACTUEL", "NUMERIC"),
        ("ID_ORIGINE_PRIX", "TEXT", True),
    ),
    _t(
        "SYS_MD_ORIGINE_PRIX",
        ("ID_ORIGINE_PRIX",),
        ("ID_ORIGINE_PRIX", "TEXT"),
        ("LC_ORIGINE_PRIX", "TEXT", True),
        ("TYPE_PRIX", "TEXT", True),
        ("FG_PROMO", "TEXT", True),
    ),
    _t(
        "SYS_FACTURE_LIGNE",
        ("ID_FACTURE", "NO_LIGNE"),
        ("ID_FACTURE", "TEXT"),
        ("NO_LIGNE", "INTEGER"),
        ("ID_CDE", "TEXT", True),
        ("ID_CLN", "TEXT"),
        ("ID_ART", "TEXT"),
        ("DT_FACTURE", "DATE"),
        ("QT_UF", "NUMERIC"),
        ("QT_KG", "NUMERIC", True),
        ("MT_CA", "NUMERIC"),
        ("ID_ORIGINE_PRIX", "TEXT", True),
        ("FG_HM", "TEXT", True),
        ("ID_FOURNISSEUR", "TEXT", True),
    ),
    _t(
        "PT0CE_TYPE_CLIENT_MAPPING",
        ("ID_TC_CG", "ID_TC_CIBLE", "FG_HM"),
        ("ID_TC_CG", "TEXT"),
        ("ID_TC_CIBLE", "TEXT"),
        ("FG_HM", "TEXT"),
        ("TYPE_CLIENT", "TEXT"),
    ),
    _t(
        "PT0CE_TYPE_RESTAURANT_MAPPING",
        ("ID_SEGMENT",),
        ("ID_SEGMENT", "TEXT"),
        ("TYPE_RESTAURANT", "TEXT"),
    ),
    _t(
        "PT1CE_OPTIMAL_ZOOM1",
        ("CUBE_TYPE", "ID_ART", "TYPE_CLIENT", "TYPE_RESTAURANT", "GEO"),
        ("CUBE_TYPE", "TEXT"),
        ("ID_ART", "TEXT"),
        ("TYPE_CLIENT", "TEXT"),
        ("TYPE_RESTAURANT", "TEXT"),
        ("GEO", "TEXT", True),
        ("PAS_ACTIF", "NUMERIC"),
        ("PRB_ACTIF", "NUMERIC"),
        *((b, "NUMERIC") for b in BOUND_COLUMNS),
        ("NEW_PAS", "NUMERIC"),
        ("NEW_PRB", "NUMERIC"),
        *((b, "NUMERIC") for b in NEW_BOUND_COLUMNS),
        ("PRICE_SENSITIVITY", "TEXT", True),
        ("ECART_TYPE", "NUMERIC", True),
        ("PCT_HAUSSE_PAS", "NUMERIC", True),
    ),
)

TABLES_BY_NAME: dict[str, Table] = {t.name: t for t in TABLES}


def table(name: str) -> Table:
    """The contract table called `name` (any case)."""
    try:
        return TABLES_BY_NAME[name.upper()]
    except KeyError:
        raise KeyError(f"{name} is not a table of the source contract") from None
