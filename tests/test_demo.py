"""Tests of the demo data generator (pt2qe.demo).

Small worlds (2,000 offers) so the module runs in a few seconds. The expected counts
are re-derived here from the written files with pandas, independently of the
generator's own bookkeeping, following QUOTE_ENGINE_RULES sections 1-3.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from pt2qe import contract, demo

OFFERS = 2_000
OLD = ["PRB_ACTIF", *contract.BOUND_COLUMNS, "PAS_ACTIF"]
NEW = ["NEW_PRB", *contract.NEW_BOUND_COLUMNS, "NEW_PAS"]
CND_TYPES = ["ZFAP", "ZFSP", "ZIAP", "ZISP"]
SEQS = ["A305", "A565"]


# ---------------------------------------------------------------------------- helpers
def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def _csv_types(t: contract.Table) -> dict[str, pa.DataType]:
    m = {"TEXT": pa.string(), "DATE": pa.date32(), "NUMERIC": pa.float64(), "INTEGER": pa.int64()}
    return {c.name: m[c.type] for c in t.columns}


def _read_csv(folder: Path, name: str) -> pa.Table:
    t = contract.table(name)
    return pacsv.read_csv(
        folder / f"{name}.csv",
        convert_options=pacsv.ConvertOptions(
            column_types=_csv_types(t), strings_can_be_null=True, quoted_strings_can_be_null=True
        ),
    )


def _frames(folder: Path) -> dict[str, pd.DataFrame]:
    """Every table as pandas, dates as ISO strings, text as str, NULL as NaN/None."""
    out = {}
    for t in contract.TABLES:
        df = _read_csv(folder, t.name).to_pandas()
        for c in t.columns:
            if c.type == "DATE":
                df[c.name] = df[c.name].map(lambda d: d.isoformat() if d is not None else None)
        out[t.name] = df
    return out


def _engine(f: dict[str, pd.DataFrame]) -> dict[str, object]:
    """Sections 1-3 of the quote engine rules, re-implemented on the files."""
    cal = f["SYS_MD_CALENDRIER_SYSCO"]
    as_of = cal.loc[cal.FG_SEM_EN_COURS == "X", "ID_SEM"].item()
    q = cal.groupby("ID_TRIMESTRE_FISCAL").agg(s=("ID_SEM", "min"), e=("DT_FIN_SEM", "max"))
    complete = q[q.e < as_of].sort_values("e").tail(4)
    ps, pe = complete.s.min(), complete.e.max()

    ori = f["SYS_MD_ORIGINE_PRIX"]
    o = (
        f["SYS_TARIF_SIMULATION"]
        .merge(f["SYS_MD_CONDITION"], on="ID_CND")
        .merge(f["SYS_MD_CLIENT"], on="ID_CLN")
        .merge(f["SYS_MD_ARTICLE"], on="ID_ART")
        .merge(ori[["ID_ORIGINE_PRIX", "FG_PROMO"]], on="ID_ORIGINE_PRIX", how="left")
    )
    fails = {
        "cnd_not_valid": o.FG_CND_VLD.ne("X"),
        "cnd_expired": o.DT_FIN <= as_of,
        "cnd_type": ~o.ID_TYP_CND.isin(CND_TYPES),
        "cnd_sequence": ~o.ID_SEQ.isin(SEQS),
        "customer_autres": o.ID_TC_CG.eq("AUTRES"),
        "article_psn": o.ID_GMM.eq("PSN"),
        "article_divers_freezer": o.LC_HIC_SYSCO_N2.isin(["Divers", "Freezer"]),
        "tariff_promo": o.FG_PROMO.eq("X"),
        "univers_zoom3": o.LC_HIC_SYSCO_N1.eq("MAREE"),
        "univers_zoom2": o.ID_KAM.fillna("").str.startswith("NAT") & o.LC_HIC_SYSCO_N1.ne("MAREE"),
    }
    failing = pd.DataFrame(fails)
    kept = o[~failing.any(axis=1)].copy()

    lines = f["SYS_FACTURE_LIGNE"].merge(
        ori[["ID_ORIGINE_PRIX", "FG_PROMO"]], on="ID_ORIGINE_PRIX", how="left"
    )
    lines = lines[(lines.DT_FACTURE >= ps) & (lines.DT_FACTURE <= pe) & lines.FG_PROMO.ne("X")]
    latest = (
        lines.sort_values(["DT_FACTURE", "ID_FACTURE", "NO_LIGNE"])
        .groupby(["ID_CLN", "ID_ART"])
        .tail(1)
    )
    latest = latest.assign(HM=np.where(latest.FG_HM.eq("X"), "1", "0"))[["ID_CLN", "ID_ART", "HM"]]
    kept = kept.merge(latest, on=["ID_CLN", "ID_ART"], how="left")
    kept["HAS_HIST"] = kept.HM.notna()
    kept["HM"] = kept.HM.fillna("0")
    tcm = f["PT0CE_TYPE_CLIENT_MAPPING"].rename(columns={"FG_HM": "HM"})
    kept = kept.merge(tcm, on=["ID_TC_CG", "ID_TC_CIBLE", "HM"], how="left")
    kept = kept.merge(f["PT0CE_TYPE_RESTAURANT_MAPPING"], on="ID_SEGMENT", how="left")

    cubes = f["PT1CE_OPTIMAL_ZOOM1"]
    master = cubes[cubes.CUBE_TYPE == "MASTER"].assign(G=lambda d: d.GEO.fillna("\0"))
    kept["G"] = kept.GEO.fillna("\0")
    kept = kept.merge(
        master.drop(columns=["GEO", "CUBE_TYPE"]),
        on=["ID_ART", "TYPE_CLIENT", "TYPE_RESTAURANT", "G"],
        how="left",
        indicator="M",
    )
    national = cubes[cubes.CUBE_TYPE == "NATIONAL"].set_index("ID_ART")
    is_master = kept.M.eq("both")
    is_nat = ~is_master & kept.ID_ART.isin(national.index)
    kept["MATCH"] = np.select([is_master, is_nat], ["MASTER", "NATIONAL"], "NO_MATCH")
    for c in OLD + NEW:
        kept.loc[is_nat, c] = kept.loc[is_nat, "ID_ART"].map(national[c]).to_numpy()
    return {"as_of": as_of, "ps": ps, "pe": pe, "fails": failing, "offers": kept}


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def world(tmp_path_factory) -> tuple[Path, demo.DemoSummary]:
    out = tmp_path_factory.mktemp("demo_a")
    return out, demo.generate(out, offers=OFFERS, seed=42)


@pytest.fixture(scope="module")
def frames(world) -> dict[str, pd.DataFrame]:
    return _frames(world[0])


@pytest.fixture(scope="module")
def engine(frames) -> dict[str, object]:
    return _engine(frames)


# ------------------------------------------------------------------------------ tests
def test_world_size_matches_the_seed_at_seed_scale():
    assert demo.world_size(demo.SEED_OFFERS) == (12_345, 23_456)
    c, a = demo.world_size(234_568)
    assert (c, a) == (1_235, 2_346)  # one tenth, proportional
    c, a = demo.world_size(2_000)
    assert c >= demo.MIN_CUSTOMERS and a >= demo.MIN_ARTICLES
    assert c * a >= 3 * 2_000  # room for distinct (customer, article) pairs
    with pytest.raises(ValueError):
        demo.world_size(10)


def test_summary_counts_match_files(world):
    out, s = world
    assert s.offers == OFFERS and s.fmt == "csv" and s.seed == 42
    assert list(s.rows) == [t.name for t in contract.TABLES]
    assert s.rows["SYS_MD_CONDITION"] == s.rows["SYS_TARIF_SIMULATION"] == OFFERS
    assert s.rows["SYS_MD_CLIENT"] == s.customers and s.rows["SYS_MD_ARTICLE"] == s.articles
    for t in contract.TABLES:
        n = sum(1 for _ in (out / f"{t.name}.csv").open(encoding="utf-8")) - 1
        assert n == s.rows[t.name], t.name
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{t.name}.csv" for t in contract.TABLES)


def test_same_seed_is_byte_identical_other_seed_differs(world, tmp_path):
    out, _ = world
    again = tmp_path / "again"
    demo.generate(again, offers=OFFERS, seed=42)
    assert _digest(again) == _digest(out)
    other = tmp_path / "other"
    demo.generate(other, offers=OFFERS, seed=7)
    d1, d2 = _digest(out), _digest(other)
    assert d1.keys() == d2.keys()
    changed = {k for k in d1 if d1[k] != d2[k]}
    # the fixed tables stay, every generated table changes
    assert {"SYS_MD_CONDITION", "SYS_FACTURE_LIGNE", "PT1CE_OPTIMAL_ZOOM1",
            "SYS_TARIF_SIMULATION", "SYS_MD_CLIENT", "SYS_MD_ARTICLE"} <= {
        k.removesuffix(".csv") for k in changed}
    assert "SYS_MD_ORIGINE_PRIX.csv" not in changed


def test_csv_dialect_and_contract_columns(world):
    out, _ = world
    for t in contract.TABLES:
        raw = (out / f"{t.name}.csv").read_bytes()
        assert not raw.startswith(b"\xef\xbb\xbf")
        header = raw.split(b"\n", 1)[0].decode("utf-8")
        assert header == ",".join(t.column_names), t.name
        raw.decode("utf-8")  # valid UTF-8
        table = _read_csv(out, t.name)
        assert table.column_names == t.column_names
        for c in t.columns:
            if not c.nullable:
                assert table[c.name].null_count == 0, f"{t.name}.{c.name}"
    # dates are YYYY-MM-DD and numbers use a dot
    cnd_line = (out / "SYS_MD_CONDITION.csv").read_text(encoding="utf-8").splitlines()[1]
    assert cnd_line.split(",")[6][4] == "-" and len(cnd_line.split(",")[6]) == 10
    tar_line = (out / "SYS_TARIF_SIMULATION.csv").read_text(encoding="utf-8").splitlines()[1]
    assert "." in tar_line.split(",")[1]


def test_nullable_columns_really_hold_nulls(frames):
    expect_nulls = {
        "SYS_MD_CLIENT": ["LC_CLN", "ID_SEGMENT", "GEO", "ID_KAM"],
        "SYS_MD_ARTICLE": ["ID_GMM", "LC_HIC_SYSCO_N1", "LC_HIC_SYSCO_N2", "LC_ATTRIBUT",
                           "ID_GTIN13", "FAMILLE_CONDITIONNEMENT"],
        "SYS_MD_CONDITION": ["FG_CND_VLD"],
        "SYS_TARIF_SIMULATION": ["ID_ORIGINE_PRIX"],
        "SYS_MD_ORIGINE_PRIX": ["TYPE_PRIX", "FG_PROMO"],
        "SYS_FACTURE_LIGNE": ["ID_CDE", "QT_KG", "ID_ORIGINE_PRIX", "FG_HM", "ID_FOURNISSEUR"],
        "PT1CE_OPTIMAL_ZOOM1": ["GEO", "PRICE_SENSITIVITY", "ECART_TYPE", "PCT_HAUSSE_PAS"],
        "SYS_MD_CALENDRIER_SYSCO": ["FG_SEM_EN_COURS"],
    }
    for name, cols in expect_nulls.items():
        df = frames[name]
        for c in cols:
            nulls = df[c].isna().sum()
            assert 0 < nulls < len(df), f"{name}.{c}: {nulls} NULL of {len(df)}"


def test_keys_are_unique(frames):
    for t in contract.TABLES:
        df = frames[t.name][list(t.key)].fillna("\0")
        assert not df.duplicated().any(), t.name
        assert len(df) > 0
    assert not frames["SYS_MD_CONDITION"][["ID_CLN", "ID_ART"]].duplicated().any()
    assert set(frames["SYS_TARIF_SIMULATION"].ID_CND) == set(frames["SYS_MD_CONDITION"].ID_CND)


def test_references_resolve(frames):
    cnd, lines = frames["SYS_MD_CONDITION"], frames["SYS_FACTURE_LIGNE"]
    clients, articles = set(frames["SYS_MD_CLIENT"].ID_CLN), set(frames["SYS_MD_ARTICLE"].ID_ART)
    assert set(cnd.ID_CLN) <= clients and set(cnd.ID_ART) <= articles
    assert set(lines.ID_CLN) <= clients and set(lines.ID_ART) <= articles
    origins = set(frames["SYS_MD_ORIGINE_PRIX"].ID_ORIGINE_PRIX)
    assert set(frames["SYS_TARIF_SIMULATION"].ID_ORIGINE_PRIX.dropna()) <= origins
    assert set(lines.ID_ORIGINE_PRIX.dropna()) <= origins
    assert set(frames["PT1CE_OPTIMAL_ZOOM1"].ID_ART) <= articles
    assert set(frames["PT1CE_OPTIMAL_ZOOM1"].ID_ART) == articles  # a corridor for every article


def test_calendar(frames, world):
    _, s = world
    cal = frames["SYS_MD_CALENDRIER_SYSCO"]
    starts = pd.to_datetime(cal.ID_SEM)
    ends = pd.to_datetime(cal.DT_FIN_SEM)
    assert (starts.dt.day_of_week == 0).all()  # Monday
    assert ((ends - starts).dt.days == 6).all()
    assert (starts.diff().dropna().dt.days == 7).all()  # contiguous, sorted
    assert (cal.FG_SEM_EN_COURS == "X").sum() == 1
    assert cal.FG_SEM_EN_COURS.dropna().eq("X").all()
    current = cal.loc[cal.FG_SEM_EN_COURS == "X", "ID_SEM"].item()
    assert current == s.as_of.isoformat() == demo.DEFAULT_AS_OF.isoformat() == "2025-11-17"
    assert cal.groupby("ID_TRIMESTRE_FISCAL").size().eq(13).all()
    assert cal.ID_TRIMESTRE_FISCAL.str.fullmatch(r"\d{4}_Q0[1-4]").all()
    assert (cal.ID_TRIMESTRE_FISCAL.str[:4] == cal.ID_ANNEE_FISCALE).all()
    q = cal.groupby("ID_TRIMESTRE_FISCAL").agg(e=("DT_FIN_SEM", "max"))
    assert (q.e < current).sum() >= 6
    assert cal.DT_FIN_SEM.max() > current  # weeks after as_of
    assert cal.loc[cal.FG_SEM_EN_COURS == "X", "ID_TRIMESTRE_FISCAL"].item() == "2026_Q02"


def test_period(engine, world):
    _, s = world
    assert engine["ps"] == s.period_start.isoformat() == "2024-09-30"
    assert engine["pe"] == s.period_end.isoformat() == "2025-09-28"
    assert (s.period_end - s.period_start).days + 1 == 4 * 91


def test_custom_as_of_moves_the_flag_and_period(tmp_path):
    as_of = date(2025, 3, 5)  # a Wednesday
    s = demo.generate(tmp_path, offers=200, seed=1, as_of=as_of)
    cal = _frames(tmp_path)["SYS_MD_CALENDRIER_SYSCO"]
    week = cal[cal.FG_SEM_EN_COURS == "X"].iloc[0]
    assert week.ID_SEM <= as_of.isoformat() <= week.DT_FIN_SEM
    assert s.as_of == as_of and s.period_end < as_of
    assert (cal.groupby("ID_TRIMESTRE_FISCAL").DT_FIN_SEM.max() < as_of.isoformat()).sum() >= 6
    cnd = _frames(tmp_path)["SYS_MD_CONDITION"]
    assert (cnd.DT_FIN > as_of.isoformat()).mean() > 0.9


def test_each_filter_removes_rows_and_one_row_only_by_itself(engine, world):
    _, s = world
    fails: pd.DataFrame = engine["fails"]
    assert tuple(fails.columns) == demo.FILTERS
    only = fails[fails.sum(axis=1) == 1]
    for name in demo.FILTERS:
        assert fails[name].sum() == s.expected[f"fail_{name}"] > 0, name
        assert only[name].sum() >= 1, f"no offer removed by {name} alone"
    # kept offers are the majority but not all
    assert 0.55 * OFFERS < len(engine["offers"]) == s.expected["kept_offers"] < 0.9 * OFFERS


def test_raw_filter_values(frames, world):
    _, s = world
    cnd = frames["SYS_MD_CONDITION"]
    assert cnd.FG_CND_VLD.isna().any() and cnd.FG_CND_VLD.eq("N").any()
    assert cnd.FG_CND_VLD.eq("X").mean() > 0.95
    assert (cnd.DT_FIN == s.as_of.isoformat()).any()  # expired exactly on as_of
    assert (cnd.DT_FIN == (s.as_of + timedelta(days=1)).isoformat()).any()  # valid by a day
    assert set(CND_TYPES) < set(cnd.ID_TYP_CND) and set(SEQS) < set(cnd.ID_SEQ)
    assert (cnd.DT_DEB < cnd.DT_FIN).all()
    cli, art = frames["SYS_MD_CLIENT"], frames["SYS_MD_ARTICLE"]
    assert {"RCI", "RSI", "RSC", "AUTRES"} == set(cli.ID_TC_CG)
    assert {"PI", "GI", "HM"} == set(cli.ID_TC_CIBLE)
    assert set(cli.GEO.dropna()) == {"NORD", "SUD", "EST", "OUEST", "IDF"}
    kam = cli.ID_KAM
    assert kam.isna().mean() > 0.5
    assert kam.eq(" ").any() and kam.str.startswith("KAM").any() and kam.str.startswith("NAT").any()
    assert art.ID_GMM.eq("PSN").any() and art.ID_GMM.isna().mean() > 0.4
    assert {"Divers", "Freezer"} <= set(art.LC_HIC_SYSCO_N2.dropna())
    assert {"EPICERIE", "BOUCHERIE", "CREMERIE", "MAREE"} <= set(art.LC_HIC_SYSCO_N1.dropna())
    tar = frames["SYS_TARIF_SIMULATION"]
    promo = set(frames["SYS_MD_ORIGINE_PRIX"].query("FG_PROMO == 'X'").ID_ORIGINE_PRIX)
    assert promo and tar.ID_ORIGINE_PRIX.isin(promo).any()
    assert tar.ID_ORIGINE_PRIX.isna().mean() > 0.25


def test_mappings(frames, engine):
    tcm = frames["PT0CE_TYPE_CLIENT_MAPPING"]
    assert set(tcm.FG_HM) == {"0", "1"}
    assert {"RCI PI GI", "RSI HM", "RSC HM"} <= set(tcm.TYPE_CLIENT)
    trm = frames["PT0CE_TYPE_RESTAURANT_MAPPING"]
    assert {"TRADITIONNEL", "RESTAURATION_RAPIDE", "COLLECTIVITE", "HOTELLERIE"} <= set(
        trm.TYPE_RESTAURANT)
    cli = frames["SYS_MD_CLIENT"]
    assert cli.ID_SEGMENT.isna().any()
    assert not set(cli.ID_SEGMENT.dropna()) <= set(trm.ID_SEGMENT)  # an unmapped segment
    offers = engine["offers"]
    assert offers.TYPE_CLIENT.isna().any()  # some combinations are unmapped
    assert offers.TYPE_RESTAURANT.isna().any()
    assert offers.TYPE_CLIENT.notna().mean() > 0.9
    assert offers.HM.eq("1").any() and offers.HM.eq("0").any()


def test_articles(frames):
    art = frames["SYS_MD_ARTICLE"]
    share = art.LC_ATTRIBUT.eq("Basiques").mean()
    assert 0.07 < share < 0.25
    gtin = art.ID_GTIN13.dropna()

    def valid(g: str) -> bool:
        if len(g) != 13 or not g.isdigit():
            return False
        s = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(g[:12]))
        return (10 - s % 10) % 10 == int(g[12])

    ok = gtin.map(valid)
    assert ok.mean() > 0.85 and (~ok).any()
    assert valid("4006381333931")  # the checker itself is right (a known GTIN)
    assert set(art.FAMILLE_CONDITIONNEMENT.dropna()) <= {"fragile", "textile", "furniture"}
    assert art.FAMILLE_CONDITIONNEMENT.notna().any()


def test_prices_positive_and_precise(frames):
    p = frames["SYS_TARIF_SIMULATION"].PRIX_TARIF_ACTUEL
    assert (p > 0).all()
    assert np.allclose(p, np.round(p, 4))
    assert (~np.isclose(p, np.round(p, 2))).mean() > 0.5  # 3-4 decimals, not cents


def test_corridor_bounds_ordered_and_rounded(frames):
    cub = frames["PT1CE_OPTIMAL_ZOOM1"]
    for cols in (OLD, NEW):
        v = cub[cols].to_numpy(dtype=float)
        assert (v > 0).all()
        assert (np.diff(v, axis=1) <= 0).all(), cols  # PRB >= ... >= PAS
        assert (v[:, 0] > v[:, -1]).all()
        assert np.allclose(v, np.round(v, 4))
    assert set(cub.CUBE_TYPE) == {"MASTER", "NATIONAL"}
    nat = cub[cub.CUBE_TYPE == "NATIONAL"]
    assert nat.TYPE_CLIENT.eq("NATIONAL").all() and nat.TYPE_RESTAURANT.eq("NATIONAL").all()
    assert nat.GEO.isna().all()
    master = cub[cub.CUBE_TYPE == "MASTER"]
    assert master.GEO.isna().any() and master.GEO.notna().mean() > 0.8
    assert not master.TYPE_CLIENT.eq("NATIONAL").any()
    assert set(cub.PRICE_SENSITIVITY.dropna()) == {"HIGH", "MEDIUM", "LOW"}
    assert (cub.NEW_PAS < cub.PAS_ACTIF).mean() > 0.05  # price-freeze cubes
    assert (cub.NEW_PAS > cub.PAS_ACTIF).mean() > 0.7


def test_matching_splits_into_master_national_no_match(engine, world):
    _, s = world
    offers = engine["offers"]
    counts = offers.MATCH.value_counts()
    assert counts.get("MASTER", 0) == s.expected["match_master"]
    assert counts.get("NATIONAL", 0) == s.expected["match_national"]
    assert counts.get("NO_MATCH", 0) == s.expected["match_no_match"]
    assert counts["MASTER"] > 0.6 * len(offers)
    assert counts["NATIONAL"] > 0.05 * len(offers)
    assert 0 < counts["NO_MATCH"] < 0.1 * len(offers)
    # offers with a NULL GEO find a MASTER cube whose GEO is NULL
    assert (offers.GEO.isna() & offers.MATCH.eq("MASTER")).any()
    assert offers.HAS_HIST.sum() == s.expected["offers_with_history"]
    assert 0.7 * len(offers) < offers.HAS_HIST.sum() < len(offers)  # some without history


def test_current_prices_fall_in_every_zone_and_every_path(engine):
    o = engine["offers"]
    o = o[o.MATCH != "NO_MATCH"]
    p = o.PRIX_TARIF_ACTUEL
    b = o[OLD].astype(float)
    labels = ["ABOVE_PRB", "PL1", "PL2", "PL3", "PL4", "PL5", "PL6"]
    conds = [p > b[c] for c in OLD[:7]] + [p >= b.PAS_ACTIF]
    pos = pd.Series(np.select(conds, [*labels, "PLX"], "BELOW_PAS"))
    for label in [*labels, "PLX", "BELOW_PAS"]:
        assert (pos == label).sum() >= 5, label
    freeze = o.NEW_PAS.astype(float) < o.PAS_ACTIF.astype(float)
    premium = ~freeze & (p > b.BORNE_PL1_PL2) & (p <= b.PRB_ACTIF)
    assert freeze.sum() >= 10 and premium.sum() >= 10 and (~freeze & ~premium).sum() > len(o) / 2
    assert o.PRICE_SENSITIVITY.isna().any()


def test_invoice_lines(frames, engine, world):
    _, s = world
    lines = frames["SYS_FACTURE_LIGNE"]
    assert len(lines) / OFFERS >= 4.0
    assert (lines.QT_UF > 0).all() and (lines.MT_CA > 0).all()
    assert (lines.QT_KG.dropna() > 0).all()
    assert lines.NO_LIGNE.min() == 1
    ps, pe = engine["ps"], engine["pe"]
    d = lines.DT_FACTURE
    assert (d < ps).any() and (d > pe).any()
    assert (d == ps).any() and (d == pe).any()
    assert (d < s.as_of.isoformat()).all()
    assert ((d >= ps) & (d <= pe)).mean() > 0.95
    assert lines.FG_HM.eq("X").any() and set(lines.FG_HM.dropna()) == {"X"}
    promo = set(frames["SYS_MD_ORIGINE_PRIX"].query("FG_PROMO == 'X'").ID_ORIGINE_PRIX)
    assert 0 < lines.ID_ORIGINE_PRIX.isin(promo).mean() < 0.2
    assert 2 < lines.ID_FOURNISSEUR.nunique() <= 10
    # amounts follow the condition's current price
    tar = frames["SYS_TARIF_SIMULATION"].merge(frames["SYS_MD_CONDITION"], on="ID_CND")
    m = lines.merge(tar[["ID_CLN", "ID_ART", "PRIX_TARIF_ACTUEL"]], on=["ID_CLN", "ID_ART"])
    assert len(m) > 0.8 * len(lines)
    ratio = m.MT_CA / (m.PRIX_TARIF_ACTUEL * m.QT_UF)
    assert 0.9 < ratio.median() < 1.05
    assert ratio.between(0.7, 1.3).mean() > 0.98
    # history-only pairs exist (lines of pairs without a condition)
    assert len(m) < len(lines)
    # invoices group several lines
    assert lines.groupby("ID_FACTURE").size().max() > 1


def test_parquet(tmp_path, world):
    csv_out, s_csv = world
    out = tmp_path / "pq"
    s = demo.generate(out, offers=OFFERS, seed=42, fmt="parquet")
    assert s.rows == s_csv.rows and s.expected == s_csv.expected
    assert sorted(p.name for p in out.iterdir()) == sorted(
        f"{t.name}.parquet" for t in contract.TABLES)
    want = {"TEXT": pa.string(), "DATE": pa.date32(), "NUMERIC": pa.decimal128(18, 4),
            "INTEGER": pa.int64()}
    for t in contract.TABLES:
        table = pq.read_table(out / f"{t.name}.parquet")
        assert table.column_names == t.column_names
        for c in t.columns:
            f = table.schema.field(c.name)
            assert f.type == want[c.type], f"{t.name}.{c.name}: {f.type}"
            assert f.nullable == c.nullable
        # same values as the CSV files
        csv = _read_csv(csv_out, t.name)
        text = pacsv.read_csv(
            csv_out / f"{t.name}.csv",
            convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(t.column_names,
                                                                            pa.string())),
        )
        for c in t.columns:
            a = table[c.name]
            if c.type == "NUMERIC":  # exact decimals: compare with the CSV text
                want_num = [Decimal(x) if x else None for x in text[c.name].to_pylist()]
                assert a.to_pylist() == want_num, f"{t.name}.{c.name}"
            else:
                assert a.equals(csv[c.name]), f"{t.name}.{c.name}"
    again = tmp_path / "pq2"
    demo.generate(again, offers=OFFERS, seed=42, fmt="parquet")
    assert _digest(again) == _digest(out)


def test_atomic_write_leaves_no_partial_file(tmp_path, monkeypatch):
    def boom(self, *a, **k):
        raise RuntimeError("killed")

    monkeypatch.setattr(demo._World, "_cube_batch", boom)
    with pytest.raises(RuntimeError, match="killed"):
        demo.generate(tmp_path, offers=200, seed=3)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert "PT1CE_OPTIMAL_ZOOM1.csv" not in names
    assert not [n for n in names if n.endswith(".tmp")]
    assert "SYS_FACTURE_LIGNE.csv" in names  # written before the failure, complete


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError):
        demo.generate(tmp_path, offers=OFFERS, fmt="xlsx")
    with pytest.raises(ValueError):
        demo.generate(tmp_path, offers=10)
    assert list(tmp_path.iterdir()) == []
