"""Demo data generator: a deterministic source folder shaped like the seed's world.

`generate(out_dir, offers=..., seed=..., fmt="csv"|"parquet")` writes one file per
table of the source contract (`pt2qe.contract`), each under a temporary name and then
renamed. The same seed and size give byte-identical files: every random draw comes from
`numpy.random.Generator(PCG64(...))` seeded from `seed` and a fixed stream number, and
nothing reads the clock.

The world (see `DemoSummary.expected` for the counts the quote engine should find):
- a fiscal calendar of 13-week quarters (fiscal year N starts on the Monday near
  1 July of N-1, codes `2026_Q02`), eight complete quarters before `as_of`, the current
  quarter (its `as_of` week flagged `X`) and the next one;
- customers of groups RCI / RSI / RSC / AUTRES x targets PI / GI / HM, restaurant
  segments (one unmapped, some NULL), regions (some NULL), key accounts (`KAM..`, and
  `NAT..` which the UNIVERS rules send to ZOOM2);
- articles with a two-level hierarchy (MAREE -> ZOOM3, N2 `Divers` / `Freezer`), range
  codes (a few `PSN`), `Basiques` on about 15 %, GTIN-13 (a few invalid), pack families;
- one condition + one tariff per offer, each (ID_CLN, ID_ART) once; every filter of
  the quote engine's Phase 1 removes some rows, and each one removes at least one row
  that no other filter removes;
- invoice lines (about 4.3 per offer) over the four complete quarters before `as_of`,
  plus a few just outside, and lines exactly on both bounds of the period;
- corridors (PT1CE_OPTIMAL_ZOOM1): MASTER cubes keyed the way the engine computes the
  offer's TYPE_CLIENT (with the FG_HM of the pair's latest in-period non-promotional
  line) for most offers, NATIONAL cubes for most articles, so that offers split into
  MASTER, NATIONAL and NO_MATCH; every article has at least one cube.

Memory stays bounded: offers are numpy arrays (about 40 bytes each); invoice lines and
cubes are generated and written in chunks.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from pt2qe import contract

__all__ = [
    "DEFAULT_AS_OF",
    "DemoSummary",
    "FORMATS",
    "SEED_ARTICLES",
    "SEED_CUSTOMERS",
    "SEED_OFFERS",
    "fiscal_calendar",
    "generate",
    "world_size",
]

# --------------------------------------------------------------------------- sizes
SEED_OFFERS = 2_345_678
SEED_CUSTOMERS = 12_345
SEED_ARTICLES = 23_456
MIN_OFFERS = 50
MIN_CUSTOMERS = 40
MIN_ARTICLES = 60
PAIR_ROOM = 3  # at least 3 possible (customer, article) pairs per drawn pair

FORMATS = ("csv", "parquet")
NUMERIC_SCALE = 4  # decimals of every NUMERIC column (parquet: decimal128(18, 4))
PARQUET_NUMERIC = pa.decimal128(18, NUMERIC_SCALE)

INVOICE_CHUNK_LINES = 300_000
ROW_CHUNK = 250_000

# ------------------------------------------------------------------------ calendar
FY_ANCHOR = date(2025, 6, 30)  # a Monday: first day of fiscal year 2026
FY_ANCHOR_YEAR = 2026
QUARTER_DAYS = 91  # 13 weeks
QUARTERS_BEFORE = 8  # complete quarters in the calendar before the current one
QUARTERS_AFTER = 1  # whole quarters after the current one
DEFAULT_AS_OF = FY_ANCHOR + timedelta(days=QUARTER_DAYS + 7 * 7)  # 2025-11-17, 2026_Q02 wk 8

_EPOCH = date(1970, 1, 1)

# ---------------------------------------------------------------------- customers
CG = ("RCI", "RSI", "RSC", "AUTRES")
CG_P = (0.36, 0.30, 0.28, 0.06)
CIBLE = ("PI", "GI", "HM")
CIBLE_P = (0.45, 0.35, 0.20)
# (ID_TC_CG, ID_TC_CIBLE, FG_HM) -> TYPE_CLIENT; combinations absent here are unmapped.
TYPE_CLIENT_MAPPING: tuple[tuple[str, str, str, str], ...] = (
    ("AUTRES", "GI", "0", "AUTRES"),
    ("AUTRES", "PI", "0", "AUTRES"),
    ("RCI", "GI", "0", "RCI PI GI"),
    ("RCI", "GI", "1", "RCI HM"),
    ("RCI", "HM", "0", "RCI HM"),
    ("RCI", "HM", "1", "RCI HM"),
    ("RCI", "PI", "0", "RCI PI GI"),
    ("RCI", "PI", "1", "RCI HM"),
    ("RSC", "GI", "0", "RSC GI"),
    ("RSC", "GI", "1", "RSC HM"),
    ("RSC", "HM", "0", "RSC HM"),
    ("RSC", "HM", "1", "RSC HM"),
    ("RSC", "PI", "0", "RSC PI"),
    ("RSI", "GI", "0", "RSI PI GI"),
    ("RSI", "HM", "0", "RSI HM"),
    ("RSI", "HM", "1", "RSI HM"),
    ("RSI", "PI", "0", "RSI PI GI"),
    ("RSI", "PI", "1", "RSI HM"),
)  # unmapped on purpose: (RSI, GI, 1), (RSC, PI, 1), (AUTRES, HM, *), (AUTRES, PI|GI, 1)
TYPE_CLIENTS = tuple(sorted({m[3] for m in TYPE_CLIENT_MAPPING}))

SEGMENTS = ("SEG10", "SEG11", "SEG20", "SEG21", "SEG30", "SEG40", "SEG50", "SEG60", "SEG99")
SEGMENT_P = (0.22, 0.10, 0.16, 0.08, 0.12, 0.10, 0.09, 0.06, 0.03)  # + NULL below
SEGMENT_NULL_P = 0.04
TYPE_RESTAURANT_MAPPING: tuple[tuple[str, str], ...] = (
    ("SEG10", "TRADITIONNEL"),
    ("SEG11", "TRADITIONNEL"),
    ("SEG20", "RESTAURATION_RAPIDE"),
    ("SEG21", "RESTAURATION_RAPIDE"),
    ("SEG30", "COLLECTIVITE"),
    ("SEG40", "HOTELLERIE"),
    ("SEG50", "CAFE_BAR"),
    ("SEG60", "TRAITEUR"),
)  # SEG99 is unmapped on purpose
TYPE_RESTAURANTS = tuple(sorted({m[1] for m in TYPE_RESTAURANT_MAPPING}))

GEOS = ("EST", "IDF", "NORD", "OUEST", "SUD")
GEO_P = (0.17, 0.22, 0.19, 0.18, 0.18)
GEO_NULL_P = 0.06

# ID_KAM: NULL, blank (" "), KAMnnn, NATnn (-> ZOOM2)
KAM_P = (0.72, 0.04, 0.17, 0.07)

# ------------------------------------------------------------------------ articles
HIERARCHY: tuple[tuple[str, float, float, tuple[str, ...]], ...] = (
    # N1, share, median reference price, N2 labels (Divers / Freezer added separately)
    ("EPICERIE", 0.24, 4.0, ("Conserves", "Pâtes riz et légumes secs", "Huiles et vinaigres",
                             "Sauces et condiments", "Biscuiterie")),
    ("BOUCHERIE", 0.12, 14.0, ("Boeuf", "Volaille", "Porc", "Charcuterie")),
    ("CREMERIE", 0.13, 7.0, ("Fromages", "Beurre et crème", "Oeufs", "Produits laitiers")),
    ("MAREE", 0.04, 18.0, ("Poissons frais", "Crustacés", "Coquillages")),
    ("FRUITS ET LEGUMES", 0.12, 3.0, ("Légumes frais", "Fruits frais", "4e gamme")),
    ("SURGELES", 0.13, 8.0, ("Légumes surgelés", "Desserts surgelés", "Viandes surgelées",
                             "Frites et pommes de terre")),
    ("BOISSONS", 0.12, 3.0, ("Eaux", "Softs", "Vins", "Bières")),
    ("NON ALIMENTAIRE", 0.10, 6.0, ("Hygiène", "Emballages", "Vaisselle jetable")),
)
N1 = tuple(h[0] for h in HIERARCHY)
N2_DIVERS = "Divers"
N2_FREEZER = "Freezer"
N2 = tuple(sorted({n2 for h in HIERARCHY for n2 in h[3]} | {N2_DIVERS, N2_FREEZER}))
GMM_OTHER = ("EXCL", "MDD", "PREM", "STD")
ATTRIBUTS = ("Basiques", "Premium", "Bio", "Origine France")
ATTRIBUT_P = (0.15, 0.05, 0.04, 0.03)
FAMILLES = ("fragile", "textile", "furniture")
FAMILLE_P = (0.12, 0.08, 0.05)
SUPPLIERS = tuple(f"FRN{i:03d}" for i in range(1, 9))
GTIN_COMPANIES = (37001, 37012, 37045, 37110, 37230, 37300, 37457, 37600, 37702, 37888)

# ---------------------------------------------------------------------- conditions
CND_TYPES = ("ZFAP", "ZFSP", "ZIAP", "ZISP", "ZPR0", "ZKBA")  # the last two are filtered
CND_TYPE_P = (0.40, 0.25, 0.18, 0.135, 0.02, 0.015)
SEQS = ("A305", "A565", "A304", "A700")  # the last two are filtered
SEQ_P = (0.60, 0.385, 0.01, 0.005)
VALID_FLAGS = ("X", "N")  # + NULL

# (ID_ORIGINE_PRIX, LC_ORIGINE_PRIX, TYPE_PRIX, FG_PROMO)
ORIGINS: tuple[tuple[str, str, str | None, str | None], ...] = (
    ("ZF01", "Prix ferme contrat", "FERME", None),
    ("ZF02", "Prix ferme négocié", "FERME", None),
    ("ZI01", "Prix indexé matières premières", "INDEXE", None),
    ("ZI02", "Prix indexé mercuriale", "INDEXE", None),
    ("ZL01", "Prix liste", None, None),
    ("PRP1", "Prix promotionnel", "FERME", "X"),
    ("PRP2", "Opération commerciale", None, "X"),
)
ORIGIN_PROMO = np.array([o[3] == "X" for o in ORIGINS])
_NO_ORIGIN = -1
# tariff origins: NULL, ZF01, ZF02, ZI01, ZI02, ZL01, PRP1, PRP2
TARIFF_ORIGIN_P = (0.40, 0.18, 0.12, 0.14, 0.10, 0.03, 0.015, 0.015)
LINE_ORIGIN_P = (0.33, 0.17, 0.12, 0.13, 0.10, 0.03, 0.07, 0.05)

# ------------------------------------------------------------------------ corridors
# old bound multipliers of an article's reference price: PRB, B12, B23, B34, B45, B56, B6X, PAS
BOUND_MULT = (1.25, 1.14, 1.08, 1.03, 0.98, 0.93, 0.87, 0.80)
SENSITIVITIES = ("HIGH", "MEDIUM", "LOW")
SENSITIVITY_P = (0.25, 0.40, 0.27)  # + NULL
MASTER_KEEP_P = 0.88  # share of the offers' MASTER keys that get a cube
NATIONAL_P = 0.93  # share of articles with a NATIONAL cube
PRICE_FREEZE_P = 0.12  # share of cubes whose NEW_PAS < PAS_ACTIF

# ------------------------------------------------------------------------- history
HISTORY_P = 0.92  # share of offers whose pair has invoice lines
EXTRA_PAIRS = 0.03  # history-only pairs (no condition), share of offers
LINES_LAMBDA = 3.5  # lines per pair = 1 + Poisson(LINES_LAMBDA)

FILTERS = (
    "cnd_not_valid",  # FG_CND_VLD <> 'X' or NULL
    "cnd_expired",  # DT_FIN <= as_of
    "cnd_type",  # ID_TYP_CND not in the list
    "cnd_sequence",  # ID_SEQ not in the list
    "customer_autres",  # ID_TC_CG = 'AUTRES'
    "article_psn",  # ID_GMM = 'PSN'
    "article_divers_freezer",  # LC_HIC_SYSCO_N2 in ('Divers', 'Freezer')
    "tariff_promo",  # tariff origin with FG_PROMO = 'X'
    "univers_zoom3",  # LC_HIC_SYSCO_N1 = 'MAREE'
    "univers_zoom2",  # ID_KAM starting with NAT (and not MAREE)
)


@dataclass(frozen=True)
class DemoSummary:
    """What `generate` wrote, and what the quote engine should find in it."""

    out_dir: Path
    fmt: str
    seed: int
    offers: int
    customers: int
    articles: int
    as_of: date
    period_start: date
    period_end: date
    rows: dict[str, int] = field(default_factory=dict)  # per contract table, contract order
    # kept_offers, offers_with_history, match_master / match_national / match_no_match,
    # type_client_unmapped, type_restaurant_unmapped (among kept offers), and
    # fail_<filter> (rows failing each Phase 1 filter, not exclusive)
    expected: dict[str, int] = field(default_factory=dict)


# =============================================================================== API
def world_size(offers: int) -> tuple[int, int]:
    """(customers, articles) for a number of offers: the seed's at 2,345,678 offers."""
    if offers < MIN_OFFERS:
        raise ValueError(f"offers must be at least {MIN_OFFERS}, got {offers}")
    s = offers / SEED_OFFERS
    if offers >= SEED_OFFERS:
        return round(SEED_CUSTOMERS * s), round(SEED_ARTICLES * s)
    c = max(MIN_CUSTOMERS, round(SEED_CUSTOMERS * s))
    a = max(MIN_ARTICLES, round(SEED_ARTICLES * s))
    need = PAIR_ROOM * offers * (1 + EXTRA_PAIRS)
    if c * a < need:
        f = math.sqrt(need / (c * a))
        c, a = math.ceil(c * f), math.ceil(a * f)
    return min(c, SEED_CUSTOMERS), min(a, SEED_ARTICLES)


def generate(
    out_dir: Path,
    offers: int = 20_000,
    seed: int = 42,
    fmt: str = "csv",
    as_of: date | None = None,
) -> DemoSummary:
    """Write a source folder of `offers` offers into `out_dir` (created if missing)."""
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {FORMATS}, got {fmt!r}")
    if isinstance(offers, bool) or not isinstance(offers, int):
        raise TypeError("offers must be an int")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError("seed must be a non-negative int")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    return _World(out_dir, offers, seed, fmt, as_of or DEFAULT_AS_OF).build()


# =========================================================================== calendar
def _quarter_start(g: int) -> date:
    return FY_ANCHOR + timedelta(days=QUARTER_DAYS * g)


def _quarter_of(d: date) -> int:
    return (d - FY_ANCHOR).days // QUARTER_DAYS


def fiscal_calendar(as_of: date) -> list[tuple[date, date, str, str, str | None]]:
    """Calendar rows (ID_SEM, DT_FIN_SEM, quarter, year, flag) around `as_of`."""
    g0 = _quarter_of(as_of)
    rows = []
    for g in range(g0 - QUARTERS_BEFORE, g0 + QUARTERS_AFTER + 1):
        year = FY_ANCHOR_YEAR + g // 4
        code = f"{year}_Q{g % 4 + 1:02d}"
        for w in range(13):
            start = _quarter_start(g) + timedelta(days=7 * w)
            end = start + timedelta(days=6)
            rows.append((start, end, code, str(year), "X" if start <= as_of <= end else None))
    return rows


def _days(d: date) -> int:
    return (d - _EPOCH).days


# ============================================================================ writing
def _arrow_type(col: contract.Column, fmt: str) -> pa.DataType:
    if col.type == "TEXT":
        return pa.string()
    if col.type == "DATE":
        return pa.date32()
    if col.type == "INTEGER":
        return pa.int64()
    return PARQUET_NUMERIC if fmt == "parquet" else pa.float64()


def _decimal(x: np.ndarray) -> pa.Array:
    """float64 (NaN = NULL, already rounded) -> decimal128(18, 4), exactly."""
    x = np.asarray(x, dtype=np.float64)
    valid = ~np.isnan(x)
    k = np.rint(np.where(valid, x, 0.0) * 10**NUMERIC_SCALE).astype(np.int64)
    words = np.empty((len(k), 2), dtype=np.int64)
    words[:, 0] = k
    words[:, 1] = k >> 63
    bitmap = None if valid.all() else pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pa.Array.from_buffers(PARQUET_NUMERIC, len(k), [bitmap, pa.py_buffer(words)])


class _TableWriter:
    """Writes one contract table in batches, under a temporary name, then renames it."""

    def __init__(self, out_dir: Path, name: str, fmt: str):
        self.table = contract.table(name)
        self.fmt = fmt
        self.path = out_dir / f"{self.table.name}.{fmt}"
        self.tmp = out_dir / f".{self.table.name}.{fmt}.tmp"
        self.schema = pa.schema(
            [pa.field(c.name, _arrow_type(c, fmt), nullable=c.nullable) for c in self.table.columns]
        )
        self.rows = 0
        self._sink = None
        self._writer = None

    def __enter__(self) -> _TableWriter:
        if self.fmt == "csv":
            self._sink = pa.OSFile(str(self.tmp), "wb")
            self._sink.write((",".join(self.table.column_names) + "\n").encode("utf-8"))
            self._writer = pacsv.CSVWriter(
                self._sink,
                self.schema,
                write_options=pacsv.WriteOptions(include_header=False, quoting_style="none"),
            )
        else:
            self._writer = pq.ParquetWriter(str(self.tmp), self.schema, compression="zstd")
        return self

    def write(self, columns: dict[str, object]) -> None:
        arrays = []
        for c, f in zip(self.table.columns, self.schema, strict=True):
            arr = self._array(columns[c.name], c, f.type)
            if not c.nullable and arr.null_count:
                raise AssertionError(f"{self.table.name}.{c.name}: NULL in a required column")
            arrays.append(arr)
        if set(columns) != set(self.table.column_names):
            raise AssertionError(f"{self.table.name}: columns {sorted(columns)}")
        batch = pa.record_batch(arrays, schema=self.schema)
        self._writer.write(batch)
        self.rows += batch.num_rows

    @staticmethod
    def _array(v: object, col: contract.Column, typ: pa.DataType) -> pa.Array:
        if isinstance(v, pa.ChunkedArray):
            v = v.combine_chunks()
        if col.type == "NUMERIC":
            x = np.asarray(v, dtype=np.float64)
            return _decimal(x) if pa.types.is_decimal(typ) else pa.array(x, from_pandas=True)
        if col.type == "DATE":
            if isinstance(v, pa.Array):
                return v.cast(pa.date32())
            d = np.asarray(v)
            if d.dtype.kind == "i":
                d = d.astype("datetime64[D]")
            return pa.array(d, type=pa.date32())
        if col.type == "INTEGER":
            return pa.array(np.asarray(v, dtype=np.int64))
        if isinstance(v, pa.Array):
            return v.cast(pa.string())
        return pa.array(v, type=pa.string())

    def __exit__(self, exc_type, exc, tb) -> None:
        complete = exc_type is None
        try:
            if self._writer is not None:
                self._writer.close()
            if self._sink is not None:
                self._sink.close()
        except BaseException:
            complete = False
            raise
        finally:
            if complete:
                os.replace(self.tmp, self.path)  # the file appears whole or not at all
            else:
                self.tmp.unlink(missing_ok=True)


# ============================================================================ helpers
def _rng(seed: int, *stream: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, *stream])))


def _ids(prefix: str, nums: np.ndarray, width: int) -> pa.Array:
    s = pc.utf8_lpad(pa.array(np.asarray(nums, dtype=np.int64)).cast(pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, s, "")


def _take(values: tuple | pa.Array, codes: np.ndarray) -> pa.Array:
    """values[codes], NULL where codes < 0."""
    vals = values if isinstance(values, pa.Array) else pa.array(list(values), type=pa.string())
    codes = np.asarray(codes)
    mask = codes < 0
    idx = pa.array(np.where(mask, 0, codes).astype(np.int64), mask=mask if mask.any() else None)
    return vals.take(idx)


def _pick(
    rng: np.random.Generator, n: int, p: tuple[float, ...], null_p: float = 0.0
) -> np.ndarray:
    """Codes 0..len(p)-1 with probabilities p (normalised with null_p), -1 for NULL."""
    probs = np.array((*p, null_p), dtype=np.float64)
    probs /= probs.sum()
    codes = rng.choice(len(probs), size=n, p=probs).astype(np.int16)
    codes[codes == len(p)] = -1
    return codes


def _round(x: np.ndarray, nd: int) -> np.ndarray:
    return np.rint(x * 10**nd) / 10**nd


def _gtin13(body12: np.ndarray) -> np.ndarray:
    """Check digit of 12-digit bodies (int64)."""
    digits = np.stack([(body12 // 10 ** (11 - i)) % 10 for i in range(12)], axis=1)
    weights = np.array([1, 3] * 6)
    return (10 - (digits * weights).sum(axis=1) % 10) % 10


# ============================================================================== world
class _World:
    def __init__(self, out_dir: Path, offers: int, seed: int, fmt: str, as_of: date):
        self.out_dir, self.n, self.seed, self.fmt, self.as_of = out_dir, offers, seed, fmt, as_of
        self.n_cln, self.n_art = world_size(offers)
        g0 = _quarter_of(as_of)
        self.g0 = g0
        self.period_start = _quarter_start(g0 - 4)
        self.period_end = _quarter_start(g0) - timedelta(days=1)
        self.rows: dict[str, int] = {}
        self.expected: dict[str, int] = {}

    def writer(self, name: str) -> _TableWriter:
        return _TableWriter(self.out_dir, name, self.fmt)

    # ------------------------------------------------------------------------ build
    def build(self) -> DemoSummary:
        self._customers()
        self._articles()
        self._pairs()
        self._conditions()
        self._write_static()
        self._write_conditions()
        self._invoices()
        self._corridors()
        self._expectations()
        rows = {t.name: self.rows[t.name] for t in contract.TABLES}
        return DemoSummary(
            out_dir=self.out_dir,
            fmt=self.fmt,
            seed=self.seed,
            offers=self.n,
            customers=self.n_cln,
            articles=self.n_art,
            as_of=self.as_of,
            period_start=self.period_start,
            period_end=self.period_end,
            rows=rows,
            expected=dict(self.expected),
        )

    # -------------------------------------------------------------------- customers
    def _customers(self) -> None:
        rng = _rng(self.seed, 1)
        n = self.n_cln
        self.cg = _pick(rng, n, CG_P)
        self.cible = _pick(rng, n, CIBLE_P)
        self.seg = _pick(rng, n, SEGMENT_P, SEGMENT_NULL_P)
        self.geo = _pick(rng, n, GEO_P, GEO_NULL_P)
        self.kam_kind = _pick(rng, n, KAM_P)  # 0 NULL, 1 blank, 2 KAM, 3 NAT
        self.kam_no = rng.integers(1, 41, n)
        # witnesses: 0 = AUTRES only, 1 = NAT key account only, 2 = clean partner
        for i, (cg, cible, seg, geo, kam) in enumerate(
            (("AUTRES", "PI", "SEG10", "NORD", 0), ("RCI", "PI", "SEG10", "NORD", 3),
             ("RCI", "GI", "SEG20", "IDF", 0))
        ):
            self.cg[i], self.cible[i] = CG.index(cg), CIBLE.index(cible)
            self.seg[i], self.geo[i], self.kam_kind[i] = SEGMENTS.index(seg), GEOS.index(geo), kam
        self.cln_w = rng.lognormal(0.0, 0.8, n)
        self.cln_factor = rng.lognormal(0.0, 0.03, n)
        self.day1 = rng.integers(0, 6, n)  # delivery days (Monday = 0 .. Saturday = 5)
        self.day2 = (self.day1 + rng.integers(1, 5, n)) % 6
        self.hm_base_p = np.where(self.cible == CIBLE.index("HM"), 0.6, 0.12)
        prefixes = ("Restaurant", "Brasserie", "Café", "Hôtel", "Cantine", "Traiteur",
                    "Crêperie", "Bistrot", "Auberge", "Pizzeria")
        names = ("Le Lion d'Or", "La Belle Époque", "Chez Marcel", "Le Grand Café",
                 "Les Tilleuls", "Le Relais", "La Fontaine", "L'Étoile", "Le Comptoir",
                 "Saint-Germain", "Le Cèdre", "La Forêt")
        pi = rng.integers(0, len(prefixes), n)
        ni = rng.integers(0, len(names), n)
        null_name = rng.random(n) < 0.03
        self.cln_names = [
            None if null_name[i] else f"{prefixes[pi[i]]} {names[ni[i]]} {i + 1}" for i in range(n)
        ]
        self.cln_ids = _ids("CLN", np.arange(1, n + 1), 6)

    # --------------------------------------------------------------------- articles
    def _articles(self) -> None:
        rng = _rng(self.seed, 2)
        n = self.n_art
        n1 = _pick(rng, n, tuple(h[1] for h in HIERARCHY))
        n2_local = rng.integers(0, 1 << 30, n)
        n2 = np.array(
            [N2.index(HIERARCHY[a][3][b % len(HIERARCHY[a][3])])
             for a, b in zip(n1.tolist(), n2_local.tolist(), strict=True)],
            dtype=np.int16,
        )
        u = rng.random(n)
        divers = u < 0.015
        n2[divers] = N2.index(N2_DIVERS)
        freezer = (u >= 0.015) & (u < 0.03)
        n1[freezer] = N1.index("SURGELES")
        n2[freezer] = N2.index(N2_FREEZER)
        v = rng.random(n)
        n1[v < 0.01] = -1
        n2[v < 0.02] = -1
        gmm = _pick(rng, n, (0.65, 0.025, *([0.325 / len(GMM_OTHER)] * len(GMM_OTHER))))
        # gmm codes: 0 NULL, 1 PSN, 2.. others
        # witnesses: 0 PSN, 1 Divers, 2 Freezer, 3 MAREE, 4 clean partner
        for i, (a1, a2, g) in enumerate(
            (("EPICERIE", "Conserves", 1), ("EPICERIE", N2_DIVERS, 0),
             ("SURGELES", N2_FREEZER, 0), ("MAREE", "Poissons frais", 0),
             ("EPICERIE", "Conserves", 0))
        ):
            n1[i], n2[i], gmm[i] = N1.index(a1), N2.index(a2), g
        self.n1, self.n2, self.gmm = n1, n2, gmm
        self.attribut = _pick(rng, n, ATTRIBUT_P, 1 - sum(ATTRIBUT_P))
        self.famille = _pick(rng, n, FAMILLE_P, 1 - sum(FAMILLE_P))
        median = np.array([h[2] for h in HIERARCHY] + [5.0])[n1]  # n1 = -1 -> last
        self.ref = np.clip(_round(median * rng.lognormal(0.0, 0.7, n), 4), 0.2, 500.0)
        self.art_w = rng.lognormal(0.0, 1.0, n)
        heavy = np.isin(n1, [N1.index("BOUCHERIE"), N1.index("MAREE")])
        veg = n1 == N1.index("FRUITS ET LEGUMES")
        self.by_weight = (heavy & (rng.random(n) < 0.6)) | (veg & (rng.random(n) < 0.4))
        self.kg_per_uf = _round(rng.lognormal(0.0, 0.9, n).clip(0.05, 25.0), 3)
        self.kg_per_uf[(rng.random(n) < 0.05) & ~self.by_weight] = np.nan
        self.supplier = rng.integers(0, len(SUPPLIERS), n)
        company = np.array(GTIN_COMPANIES, dtype=np.int64)[rng.integers(0, len(GTIN_COMPANIES), n)]
        body = company * 10**7 + np.arange(1, n + 1, dtype=np.int64)  # 5 + 7 = 12 digits
        check = _gtin13(body)
        g = rng.random(n)
        wrong = g < 0.03
        check = np.where(wrong, (check + 1 + rng.integers(0, 9, n)) % 10, check)
        gtin = [
            f"{b:012d}{c}" for b, c in zip(body.tolist(), check.tolist(), strict=True)
        ]
        for i in np.flatnonzero((g >= 0.03) & (g < 0.04)):
            gtin[i] = gtin[i][:12]  # wrong length
        for i in np.flatnonzero(g >= 0.98):
            gtin[i] = None
        self.gtin = gtin
        self.gtin_wrong_check = int(wrong.sum())
        words = ("standard", "qualité supérieure", "restauration", "seau", "colis", "vrac",
                 "carton", "pièce", "barquette", "sachet")
        sizes = ("250 g", "500 g", "1 kg", "2,5 kg", "5 kg", "1 L", "5 L", "x12", "x24", "x100")
        wi = rng.integers(0, len(words), n)
        si = rng.integers(0, len(sizes), n)
        n2names = [N2[c] if c >= 0 else "Article" for c in n2.tolist()]
        self.art_names = [
            f"{n2names[i]} {words[wi[i]]} {sizes[si[i]].replace(',', '.')}" for i in range(n)
        ]
        self.art_ids = _ids("ART", np.arange(1, n + 1), 7)

    # ------------------------------------------------------------------------ pairs
    def _pairs(self) -> None:
        """Unique (customer, article) pairs: N offers, then history-only pairs."""
        rng = _rng(self.seed, 3)
        n_off = self.n
        total = n_off + int(round(EXTRA_PAIRS * n_off))
        A = np.int64(self.n_art)
        forced = np.array([(0, 4), (1, 4), (2, 0), (2, 1), (2, 2), (2, 3)], dtype=np.int64)
        self.n_forced = len(forced)
        keys = forced[:, 0] * A + forced[:, 1]
        wc = self.cln_w / self.cln_w.sum()
        wa = self.art_w / self.art_w.sum()
        rounds = 0
        while len(keys) < total:
            need = total - len(keys)
            m = int(need * 1.25) + 64
            if rounds < 10:
                c = rng.choice(self.n_cln, m, p=wc)
                a = rng.choice(self.n_art, m, p=wa)
            else:  # popular pairs saturated: fill uniformly
                c = rng.integers(0, self.n_cln, m)
                a = rng.integers(0, self.n_art, m)
            allk = np.concatenate([keys, c.astype(np.int64) * A + a])
            _, first = np.unique(allk, return_index=True)
            first.sort()
            keys = allk[first][:total]
            rounds += 1
            if rounds > 200:
                raise RuntimeError("could not draw enough distinct (customer, article) pairs")
        self.pair_cln = (keys // A).astype(np.int32)
        self.pair_art = (keys % A).astype(np.int32)
        self.pair_key = keys

    # ------------------------------------------------------------------- conditions
    def _conditions(self) -> None:
        rng = _rng(self.seed, 4)
        n = self.n
        cln, art = self.pair_cln[:n], self.pair_art[:n]
        self.valid = _pick(rng, n, (0.985, 0.005), 0.010)  # 0 X, 1 N, -1 NULL
        self.typ = _pick(rng, n, CND_TYPE_P)
        self.seqc = _pick(rng, n, SEQ_P)
        self.origin = (_pick(rng, n, TARIFF_ORIGIN_P) - 1).astype(np.int16)  # -1 NULL
        a = _days(self.as_of)
        kind = rng.random(n)
        fin = np.empty(n, dtype=np.int64)
        expired = kind < 0.020
        fin[expired] = a - rng.integers(1, 400, int(expired.sum()))
        on_as_of = (kind >= 0.020) & (kind < 0.023)
        fin[on_as_of] = a
        next_day = (kind >= 0.023) & (kind < 0.026)
        fin[next_day] = a + 1
        ends = np.array([_days(date(y, m, d)) for y, m, d in
                         ((2026, 6, 28), (2026, 12, 31), (2027, 6, 27), (2027, 12, 31))])
        ends = ends - _days(DEFAULT_AS_OF) + a  # keep the same distance from as_of
        fixed = (kind >= 0.026) & (kind < 0.60)
        fin[fixed] = ends[rng.integers(0, len(ends), int(fixed.sum()))]
        rand = kind >= 0.60
        fin[rand] = a + rng.integers(1, 730, int(rand.sum()))
        deb = np.minimum(fin - rng.integers(30, 1100, n), a - rng.integers(0, 60, n))
        self.dt_fin, self.dt_deb = fin, deb
        self.price = self._offer_prices(rng, cln, art)

        # witness rows: forced pairs clean at condition level
        f = self.n_forced
        self.valid[:f], self.typ[:f], self.seqc[:f], self.origin[:f] = 0, 0, 0, _NO_ORIGIN
        self.dt_fin[:f] = a + 365
        self.dt_deb[:f] = a - 365
        # one offer failing only each condition-level filter
        clean = np.flatnonzero(self._entity_clean(cln, art) & self._condition_clean())
        clean = clean[clean >= f]
        if len(clean) < 5:
            raise RuntimeError("too few clean offers to plant filter witnesses")
        w = rng.choice(clean, 5, replace=False)
        self.valid[w[0]] = -1
        self.dt_fin[w[1]] = a
        self.typ[w[2]] = CND_TYPES.index("ZPR0")
        self.seqc[w[3]] = SEQS.index("A304")
        self.origin[w[4]] = next(i for i, o in enumerate(ORIGINS) if o[3] == "X")

    def _offer_prices(
        self, rng: np.random.Generator, cln: np.ndarray, art: np.ndarray
    ) -> np.ndarray:
        p = self.ref[art] * self.cln_factor[cln] * rng.lognormal(0.0, 0.13, len(art))
        nd = np.where(rng.random(len(art)) < 0.65, 4, 3)
        p = np.where(nd == 4, _round(p, 4), _round(p, 3))
        return np.maximum(p, 0.01)

    def _entity_clean(self, cln: np.ndarray, art: np.ndarray) -> np.ndarray:
        return ~(self._fail_autres(cln) | self._fail_psn(art) | self._fail_n2(art)
                 | self._maree(art) | self._nat(cln))

    def _condition_clean(self) -> np.ndarray:
        return ((self.valid == 0) & (self.dt_fin > _days(self.as_of)) & (self.typ < 4)
                & (self.seqc < 2) & ~self._promo_tariff())

    def _fail_autres(self, cln):
        return self.cg[cln] == CG.index("AUTRES")

    def _fail_psn(self, art):
        return self.gmm[art] == 1

    def _fail_n2(self, art):
        return np.isin(self.n2[art], [N2.index(N2_DIVERS), N2.index(N2_FREEZER)])

    def _maree(self, art):
        return self.n1[art] == N1.index("MAREE")

    def _nat(self, cln):
        return self.kam_kind[cln] == 3

    def _promo_tariff(self):
        o = self.origin
        return np.where(o >= 0, ORIGIN_PROMO[np.maximum(o, 0)], False)

    # ------------------------------------------------------------- static tables
    def _write_static(self) -> None:
        cal = fiscal_calendar(self.as_of)
        with self.writer("SYS_MD_CALENDRIER_SYSCO") as w:
            w.write({
                "ID_SEM": np.array([r[0] for r in cal], dtype="datetime64[D]"),
                "DT_FIN_SEM": np.array([r[1] for r in cal], dtype="datetime64[D]"),
                "ID_TRIMESTRE_FISCAL": [r[2] for r in cal],
                "ID_ANNEE_FISCALE": [r[3] for r in cal],
                "FG_SEM_EN_COURS": [r[4] for r in cal],
            })
        self.rows[w.table.name] = w.rows

        kam_kind = self.kam_kind
        kam_values = (None, " ", "KAM{:03d}", "NAT{:02d}")
        kam = [
            kam_values[k] if k < 2 else kam_values[k].format(no if k == 2 else no % 8 + 1)
            for k, no in zip(kam_kind.tolist(), self.kam_no.tolist(), strict=True)
        ]
        with self.writer("SYS_MD_CLIENT") as w:
            w.write({
                "ID_CLN": self.cln_ids,
                "LC_CLN": self.cln_names,
                "ID_TC_CG": _take(CG, self.cg),
                "ID_TC_CIBLE": _take(CIBLE, self.cible),
                "ID_SEGMENT": _take(SEGMENTS, self.seg),
                "GEO": _take(GEOS, self.geo),
                "ID_KAM": kam,
            })
        self.rows[w.table.name] = w.rows

        gmm_values = ("PSN", *GMM_OTHER)
        with self.writer("SYS_MD_ARTICLE") as w:
            w.write({
                "ID_ART": self.art_ids,
                "LC_ART": self.art_names,
                "ID_GMM": _take(gmm_values, self.gmm - 1),
                "LC_HIC_SYSCO_N1": _take(N1, self.n1),
                "LC_HIC_SYSCO_N2": _take(N2, self.n2),
                "LC_ATTRIBUT": _take(ATTRIBUTS, self.attribut),
                "ID_GTIN13": self.gtin,
                "FAMILLE_CONDITIONNEMENT": _take(FAMILLES, self.famille),
            })
        self.rows[w.table.name] = w.rows

        with self.writer("SYS_MD_ORIGINE_PRIX") as w:
            w.write({
                "ID_ORIGINE_PRIX": [o[0] for o in ORIGINS],
                "LC_ORIGINE_PRIX": [o[1] for o in ORIGINS],
                "TYPE_PRIX": [o[2] for o in ORIGINS],
                "FG_PROMO": [o[3] for o in ORIGINS],
            })
        self.rows[w.table.name] = w.rows

        with self.writer("PT0CE_TYPE_CLIENT_MAPPING") as w:
            w.write({c: [m[i] for m in TYPE_CLIENT_MAPPING]
                     for i, c in enumerate(("ID_TC_CG", "ID_TC_CIBLE", "FG_HM", "TYPE_CLIENT"))})
        self.rows[w.table.name] = w.rows

        with self.writer("PT0CE_TYPE_RESTAURANT_MAPPING") as w:
            w.write({"ID_SEGMENT": [m[0] for m in TYPE_RESTAURANT_MAPPING],
                     "TYPE_RESTAURANT": [m[1] for m in TYPE_RESTAURANT_MAPPING]})
        self.rows[w.table.name] = w.rows

    def _write_conditions(self) -> None:
        n = self.n
        origin_ids = pa.array([o[0] for o in ORIGINS], type=pa.string())
        with self.writer("SYS_MD_CONDITION") as wc, self.writer("SYS_TARIF_SIMULATION") as wt:
            for lo in range(0, n, ROW_CHUNK):
                hi = min(n, lo + ROW_CHUNK)
                ids = _ids("CND", np.arange(lo + 1, hi + 1), 9)
                wc.write({
                    "ID_CND": ids,
                    "ID_CLN": self.cln_ids.take(pa.array(self.pair_cln[lo:hi])),
                    "ID_ART": self.art_ids.take(pa.array(self.pair_art[lo:hi])),
                    "ID_TYP_CND": _take(CND_TYPES, self.typ[lo:hi]),
                    "ID_SEQ": _take(SEQS, self.seqc[lo:hi]),
                    "FG_CND_VLD": _take(VALID_FLAGS, self.valid[lo:hi]),
                    "DT_DEB": self.dt_deb[lo:hi],
                    "DT_FIN": self.dt_fin[lo:hi],
                })
                wt.write({
                    "ID_CND": ids,
                    "PRIX_TARIF_ACTUEL": self.price[lo:hi],
                    "ID_ORIGINE_PRIX": _take(origin_ids, self.origin[lo:hi]),
                })
        self.rows[wc.table.name] = wc.rows
        self.rows[wt.table.name] = wt.rows

    # --------------------------------------------------------------------- invoices
    def _invoices(self) -> None:
        rng = _rng(self.seed, 5)
        n = self.n
        n_pairs = len(self.pair_key)
        has_hist = np.concatenate([rng.random(n) < HISTORY_P, np.ones(n_pairs - n, dtype=bool)])
        h_idx = np.flatnonzero(has_hist)
        order = np.argsort(self.pair_cln[h_idx], kind="stable")
        h_idx = h_idx[order]  # history pairs, by customer
        h_lines = 1 + rng.poisson(LINES_LAMBDA, len(h_idx))
        h_hm = rng.random(len(h_idx)) < self.hm_base_p[self.pair_cln[h_idx]]
        extra_price = self.ref[self.pair_art[n:]] * rng.lognormal(0.0, 0.13, n_pairs - n)
        extra_origin = (_pick(rng, n_pairs - n, TARIFF_ORIGIN_P) - 1).astype(np.int16)
        pair_price = np.concatenate([self.price, extra_price])
        pair_origin = np.concatenate([self.origin, extra_origin])

        # the engine's view, filled chunk by chunk
        self.eff_hm = np.zeros(n, dtype=bool)  # FG_HM of the latest in-period non-promo line
        self.has_period_line = np.zeros(n, dtype=bool)

        # chunks end on a customer boundary
        cust = self.pair_cln[h_idx]
        cum = np.cumsum(h_lines)
        bounds = [0]
        while bounds[-1] < len(h_idx):
            start = bounds[-1]
            base = cum[start - 1] if start else 0
            j = int(np.searchsorted(cum, base + INVOICE_CHUNK_LINES, side="left"))
            j = min(max(j, start + 1), len(h_idx))
            while j < len(h_idx) and cust[j] == cust[j - 1]:
                j += 1
            bounds.append(j)

        origin_ids = pa.array([o[0] for o in ORIGINS], type=pa.string())
        supplier_ids = pa.array(list(SUPPLIERS), type=pa.string())
        ps, pe, a = _days(self.period_start), _days(self.period_end), _days(self.as_of)
        pre = _days(_quarter_start(self.g0 - 5))
        self.lines_in_period = 0
        next_invoice = 1
        with self.writer("SYS_FACTURE_LIGNE") as w:
            for k in range(len(bounds) - 1):
                lo, hi = bounds[k], bounds[k + 1]
                crng = _rng(self.seed, 6, k)
                pairs = h_idx[lo:hi]
                nl = h_lines[lo:hi]
                p = np.repeat(np.arange(hi - lo), nl)  # local pair index of each line
                L = len(p)
                gp = pairs[p]  # global pair index
                c = self.pair_cln[gp]
                art = self.pair_art[gp]
                # dates: in-period delivery days, a few before / after / on the bounds
                day = np.where(crng.random(L) < 0.7, self.day1[c], self.day2[c])
                date_ = ps + 7 * crng.integers(0, 52, L) + day
                u = crng.random(L)
                before = u < 0.015
                date_[before] = pre + crng.integers(0, ps - pre, int(before.sum()))
                if a - 1 > pe:
                    after = (u >= 0.015) & (u < 0.025)
                    date_[after] = crng.integers(pe + 1, a, int(after.sum()))
                for i, d in enumerate((ps, pe, ps - 1, pe + 1)):
                    if d < a:
                        date_[(u >= 0.025 + 0.001 * i) & (u < 0.026 + 0.001 * i)] = d
                # invoices = (customer, date); lines ordered by article
                o = np.lexsort((art, date_, c))
                p, gp, c, art, date_ = p[o], gp[o], c[o], art[o], date_[o]
                new = np.ones(L, dtype=bool)
                new[1:] = (c[1:] != c[:-1]) | (date_[1:] != date_[:-1])
                inv_local = np.cumsum(new) - 1
                starts = np.flatnonzero(new)
                no_ligne = np.arange(L) - starts[inv_local] + 1
                inv_no = next_invoice + inv_local
                n_inv = len(starts)
                next_invoice += n_inv
                cde_null = (crng.random(n_inv) < 0.05)[inv_local]
                # quantities and amounts
                bw = self.by_weight[art]
                qt = np.where(
                    bw,
                    np.maximum(_round(crng.lognormal(math.log(3.0), 0.7, L), 3), 0.1),
                    np.minimum(crng.geometric(0.3, L), 60).astype(np.float64),
                )
                kg = np.where(bw, qt, _round(qt * self.kg_per_uf[art], 3))
                kg = np.where(kg == 0, 0.001, kg)
                unit = pair_price[gp] * crng.lognormal(-0.02, 0.05, L)
                mt = np.maximum(_round(unit * qt, 2), 0.01)
                orig = np.where(
                    crng.random(L) < 0.75,
                    pair_origin[gp],
                    _pick(crng, L, LINE_ORIGIN_P) - 1,
                ).astype(np.int16)
                hm = h_hm[lo + p] ^ (crng.random(L) < 0.05)
                sup = np.where(crng.random(L) < 0.9, self.supplier[art],
                               crng.integers(0, len(SUPPLIERS), L))
                sup = np.where(crng.random(L) < 0.015, -1, sup)

                # the engine's FG_HM: latest in-period non-promotional line of each offer
                promo = np.where(orig >= 0, ORIGIN_PROMO[np.maximum(orig, 0)], False)
                sel = np.flatnonzero((gp < n) & (date_ >= ps) & (date_ <= pe) & ~promo)
                self.lines_in_period += int(((date_ >= ps) & (date_ <= pe)).sum())
                if len(sel):
                    so = sel[np.lexsort((no_ligne[sel], inv_no[sel], date_[sel], gp[sel]))]
                    last = np.ones(len(so), dtype=bool)
                    last[:-1] = gp[so][1:] != gp[so][:-1]
                    latest = so[last]
                    self.eff_hm[gp[latest]] = hm[latest]
                    self.has_period_line[gp[latest]] = True

                w.write({
                    "ID_FACTURE": _ids("F", inv_no, 10),
                    "NO_LIGNE": no_ligne,
                    "ID_CDE": pc.if_else(pa.array(cde_null), pa.scalar(None, pa.string()),
                                         _ids("CDE", inv_no, 10)),
                    "ID_CLN": self.cln_ids.take(pa.array(c)),
                    "ID_ART": self.art_ids.take(pa.array(art)),
                    "DT_FACTURE": date_,
                    "QT_UF": qt,
                    "QT_KG": kg,
                    "MT_CA": mt,
                    "ID_ORIGINE_PRIX": _take(origin_ids, orig),
                    "FG_HM": pc.if_else(pa.array(hm), "X", pa.scalar(None, pa.string())),
                    "ID_FOURNISSEUR": _take(supplier_ids, sup),
                })
        self.rows[w.table.name] = w.rows

    # -------------------------------------------------------------------- corridors
    def _offer_cube_keys(self) -> tuple[np.ndarray, np.ndarray]:
        """(key, has_master_key) of each offer, as the engine would build its cube key."""
        n = self.n
        cln, art = self.pair_cln[:n], self.pair_art[:n]
        tc_lookup = np.full((len(CG), len(CIBLE), 2), -1, dtype=np.int16)
        for cg, cible, hm, tc in TYPE_CLIENT_MAPPING:
            tc_lookup[CG.index(cg), CIBLE.index(cible), int(hm)] = TYPE_CLIENTS.index(tc)
        tr_lookup = np.full(len(SEGMENTS) + 1, -1, dtype=np.int16)  # last = NULL segment
        for seg, tr in TYPE_RESTAURANT_MAPPING:
            tr_lookup[SEGMENTS.index(seg)] = TYPE_RESTAURANTS.index(tr)
        self.offer_tc = tc_lookup[self.cg[cln], self.cible[cln], self.eff_hm.astype(np.int64)]
        self.offer_tr = tr_lookup[self.seg[cln]]  # seg -1 -> last entry (-1)
        geo = np.where(self.geo[cln] < 0, len(GEOS), self.geo[cln])
        ok = (self.offer_tc >= 0) & (self.offer_tr >= 0)
        key = self._cube_key(art, self.offer_tc, self.offer_tr, geo)
        return key, ok

    @staticmethod
    def _cube_key(art, tc, tr, geo) -> np.ndarray:
        k = art.astype(np.int64) * len(TYPE_CLIENTS) + np.maximum(tc, 0)
        k = k * len(TYPE_RESTAURANTS) + np.maximum(tr, 0)
        return k * (len(GEOS) + 1) + geo

    def _corridors(self) -> None:
        rng = _rng(self.seed, 7)
        key, ok = self._offer_cube_keys()
        master = np.unique(key[ok])
        master = master[rng.random(len(master)) < MASTER_KEEP_P]
        m_extra = max(1, int(0.03 * len(master)))
        extra = self._cube_key(
            rng.integers(0, self.n_art, m_extra),
            rng.integers(0, len(TYPE_CLIENTS), m_extra),
            rng.integers(0, len(TYPE_RESTAURANTS), m_extra),
            rng.integers(0, len(GEOS) + 1, m_extra),
        )
        master = np.unique(np.concatenate([master, extra]))
        per_geo = len(GEOS) + 1
        m_art = master // (per_geo * len(TYPE_RESTAURANTS) * len(TYPE_CLIENTS))
        national = rng.random(self.n_art) < NATIONAL_P
        has_master = np.zeros(self.n_art, dtype=bool)
        has_master[m_art] = True
        national |= ~has_master  # every article has at least one corridor
        self.master_keys, self.national = master, national
        self.offer_key, self.offer_master_ok = key, ok

        # rows: MASTER cubes then the NATIONAL cube of each article, by article
        n_art = np.flatnonzero(national)
        row_art = np.concatenate([m_art, n_art])
        row_type = np.concatenate([np.zeros(len(master), np.int8), np.ones(len(n_art), np.int8)])
        row_key = np.concatenate([master, np.full(len(n_art), -1, np.int64)])
        order = np.lexsort((row_key, row_type, row_art))
        row_art, row_type, row_key = row_art[order], row_type[order], row_key[order]
        geo = row_key % per_geo
        tr = (row_key // per_geo) % len(TYPE_RESTAURANTS)
        tc = (row_key // (per_geo * len(TYPE_RESTAURANTS))) % len(TYPE_CLIENTS)
        nat = row_type == 1
        tc_names = pa.array([*TYPE_CLIENTS, "NATIONAL"], type=pa.string())
        tr_names = pa.array([*TYPE_RESTAURANTS, "NATIONAL"], type=pa.string())
        tc = np.where(nat, len(TYPE_CLIENTS), tc)
        tr = np.where(nat, len(TYPE_RESTAURANTS), tr)
        geo = np.where(nat | (geo == len(GEOS)), -1, geo)

        with self.writer("PT1CE_OPTIMAL_ZOOM1") as w:
            for k, lo in enumerate(range(0, len(row_art), ROW_CHUNK)):
                hi = min(len(row_art), lo + ROW_CHUNK)
                crng = _rng(self.seed, 8, k)
                w.write(self._cube_batch(crng, row_art[lo:hi], nat[lo:hi], tc[lo:hi],
                                         tr[lo:hi], geo[lo:hi], tc_names, tr_names))
        self.rows[w.table.name] = w.rows

    def _cube_batch(self, rng, art, nat, tc, tr, geo, tc_names, tr_names) -> dict[str, object]:
        m = len(art)
        ref = self.ref[art] * np.where(nat, 1.0, rng.lognormal(0.0, 0.05, m))
        mult = np.array(BOUND_MULT) * rng.lognormal(0.0, 0.008, (m, len(BOUND_MULT)))
        old = -np.sort(-(ref[:, None] * mult), axis=1)  # PRB first, PAS last, descending
        freeze = rng.random(m) < PRICE_FREEZE_P
        h = np.where(freeze, rng.uniform(-0.06, -0.005, m), rng.uniform(0.01, 0.07, m))
        new = old * (1.0 + h[:, None] + rng.normal(0.0, 0.006, (m, len(BOUND_MULT))))
        new[:, -1] = old[:, -1] * (1.0 + h)  # NEW_PAS
        new = np.maximum.accumulate(new[:, ::-1], axis=1)[:, ::-1]  # ordered from PAS up
        old, new = _round(old, 4), _round(new, 4)
        pas, new_pas = old[:, -1], new[:, -1]
        pct = _round(new_pas / pas - 1.0, 4)
        pct[rng.random(m) < 0.03] = np.nan
        ecart = _round(ref * rng.uniform(0.03, 0.15, m), 4)
        ecart[rng.random(m) < 0.05] = np.nan
        cols: dict[str, object] = {
            "CUBE_TYPE": pc.if_else(pa.array(nat), "NATIONAL", "MASTER"),
            "ID_ART": self.art_ids.take(pa.array(art)),
            "TYPE_CLIENT": tc_names.take(pa.array(tc)),
            "TYPE_RESTAURANT": tr_names.take(pa.array(tr)),
            "GEO": _take(GEOS, geo),
            "PAS_ACTIF": pas,
            "PRB_ACTIF": old[:, 0],
            "NEW_PAS": new_pas,
            "NEW_PRB": new[:, 0],
            "PRICE_SENSITIVITY": _take(SENSITIVITIES, _pick(rng, m, SENSITIVITY_P, 0.08)),
            "ECART_TYPE": ecart,
            "PCT_HAUSSE_PAS": pct,
        }
        for i, (b, nb) in enumerate(zip(contract.BOUND_COLUMNS, contract.NEW_BOUND_COLUMNS,
                                        strict=True)):
            cols[b] = old[:, 1 + i]
            cols[nb] = new[:, 1 + i]
        return cols

    # ----------------------------------------------------------------- expectations
    def _expectations(self) -> None:
        n = self.n
        cln, art = self.pair_cln[:n], self.pair_art[:n]
        maree = self._maree(art)
        fails = {
            "cnd_not_valid": self.valid != 0,
            "cnd_expired": self.dt_fin <= _days(self.as_of),
            "cnd_type": self.typ >= 4,
            "cnd_sequence": self.seqc >= 2,
            "customer_autres": self._fail_autres(cln),
            "article_psn": self._fail_psn(art),
            "article_divers_freezer": self._fail_n2(art),
            "tariff_promo": self._promo_tariff(),
            "univers_zoom3": maree,
            "univers_zoom2": self._nat(cln) & ~maree,
        }
        assert tuple(fails) == FILTERS
        kept = np.ones(n, dtype=bool)
        for f in fails.values():
            kept &= ~f
        pos = np.searchsorted(self.master_keys, self.offer_key)
        pos = np.minimum(pos, len(self.master_keys) - 1)
        is_master = self.offer_master_ok & (self.master_keys[pos] == self.offer_key)
        is_national = ~is_master & self.national[art]
        e = self.expected
        e["kept_offers"] = int(kept.sum())
        e["offers_with_history"] = int((kept & self.has_period_line).sum())
        e["match_master"] = int((kept & is_master).sum())
        e["match_national"] = int((kept & is_national).sum())
        e["match_no_match"] = int((kept & ~is_master & ~is_national).sum())
        e["type_client_unmapped"] = int((kept & (self.offer_tc < 0)).sum())
        e["type_restaurant_unmapped"] = int((kept & (self.offer_tr < 0)).sum())
        e["invoice_lines_in_period"] = self.lines_in_period
        for name, f in fails.items():
            e[f"fail_{name}"] = int(f.sum())
