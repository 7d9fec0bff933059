"""`report.html`: the run in pictures, one self-contained page per output folder.

Analysts decide from pictures: the distribution of the increases, the decision paths and
caps that shaped the prices, the revenue impact by customer type, what changed after
corrections, which prices look abnormal. Every run folder (full, corrections, final) gets
a `report.html` that opens offline in a browser: one file, inline CSS, inline SVG charts
drawn here in Python, a few lines of inline JavaScript to sort and filter the tables. No
library, no CDN, no server. In French, like the seed's interface.

Numbers are the CSV files' numbers, character for character. Every value is formatted in
SQL with the exporter's rules (`pt2qe.exports`): prices and amounts rounded half away from
zero to `decimal_places`, `pct_*` columns ×100 to `percentage_format`, caps exactly,
indicator tables (`valeur` + `unite`) by unit, the configured decimal mark. Everything is
read from the marts with aggregates or top-N queries (LIMIT): no mart is loaded whole.

The page is deterministic for the same data (only the run id and dates of the plan
change), written under a temporary name and renamed: it is complete or absent.

The price-registry section (anomalies by severity, price evolution, top increases by
category) is optional: it appears only when the registry marts exist, and everything it
assumes about them is in `_registry_section` and the helpers right after it.
"""

from __future__ import annotations

import html
import math
import os
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from psycopg import sql

from pt2qe.exports import ExportError, ExportFormat, cell_sql, columns_of
from pt2qe.pipeline import FILES, PUBLISHED_MARTS, STAGED_MARTS

REPORT_FILE = "report.html"
TOP_INCREASES = 50  # rows of the "largest increases" table
HELD_OFFERS = 100  # rows of the "offers to check" table
TOP_ANOMALIES = 100  # rows of the registry anomalies table
MAX_CUBES_CHART = 30  # cubes drawn in the before/after charts (the table lists them all)
UNKNOWN = "(non renseigné)"
# the "offers to check" table: columns of the detail CSV file (a run's has no VALIDATION_STATUS)
HELD_COLUMNS_RUN = (
    "id_cln id_art id_cnd type_client type_restaurant univers decision_path reco_selectionnee"
    " capping_applied prix_tarif_actuel prix_recommande pct_hausse_finale ca_4q validation_status"
).split()
HELD_COLUMNS_FINAL = (
    "id_cln id_art id_cnd type_client type_restaurant univers prix_tarif_actuel nouveau_prix"
    " pct_hausse hausse_euros type_hausse validation_status"
).split()

MODE_TITLES = {
    "full": "Exécution complète (Option 1)",
    "corrections": "Exécution avec corrections des plafonds (Option 2)",
    "final": "Export final (Option 3)",
}
VALIDATION = [
    ("VALIDE", "Validées", "#3a9a5b"),
    ("A_VERIFIER", "À vérifier (hausse au-delà du seuil)", "#e07b28"),
    ("ANOMALIE", "Anomalies (baisse)", "#c8453b"),
]
DECISION_PATHS = {
    "PAS_BAISSE_GEL_PRIX": ("Gel du prix (PAS en baisse)", "#8c8c8c"),
    "PL1_CONSERVATION_PREMIUM": ("Conservation premium (PL1)", "#8a62b5"),
    "OPTIMISATION_STANDARD": ("Optimisation standard", "#1f6fb2"),
}
CAPS = [  # CAPPING_APPLIED, most binding first (QUOTE_ENGINE_RULES.md 5.9)
    ("GEL_PAS", "Gel (PAS en baisse)", "#8c8c8c"),
    ("PRB_FINAL", "Plafond PRB", "#c8453b"),
    ("PLANCHER_PL2_PL3", "Plancher PL2/PL3", "#8a62b5"),
    ("BASIQUES_50PCT", "Plafond Basiques", "#b5892f"),
    ("SENSIBILITE", "Plafond de sensibilité", "#e07b28"),
    ("NONE", "Aucun plafond", "#1f6fb2"),
]
BANDS = ["<0%", "0%", "0-2%", "2-5%", "5-7%", "7-10%", "10-15%", "15-20%", ">20%"]
BAND_COLORS = "#c8453b #9e9e9e #9ecae1 #6baed6 #4292c6 #2171b5 #08519c #08306b #e07b28".split()
PALETTE = "#1f6fb2 #e07b28 #3a9a5b #c8453b #8a62b5 #8c6d4f #d16ba5 #7f7f7f #b5b52f #2fb5c4".split()


# --------------------------------------------------------------------------- entry point


def write_report(conn, folder: Path, plan: dict, *, registry_schema: str | None = None) -> Path:
    """Write `folder/report.html` from the marts for the run described by `plan`.

    Call it after the run's CSV files are in `folder`: the page shows the same numbers.
    Each mart is read where the exporter reads it: the run's staged marts (`marts_next`)
    when it has been rebuilt, else the published ones (`marts`). `plan` needs mode,
    run_id, as_of, period_start, period_end, quarters and output (the CSV dialect).
    `registry_schema` forces the schema of the registry marts (tests). Returns the path.
    """
    report = _Report(conn, Path(folder), plan, _format(plan["output"]), registry_schema)
    if plan["mode"] == "final":
        _final_sections(report)
    else:
        _run_sections(report)
    if plan["mode"] == "corrections":
        _corrections_section(report)
        # what changed is what a corrections run is for: right after the key figures
        report.sections.insert(1, report.sections.pop())
    _registry_section(report)
    page = _page(report)
    path = report.folder / REPORT_FILE
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(page, encoding="utf-8", newline="\n")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def _format(out: dict) -> ExportFormat:
    return ExportFormat(
        separator=out["csv_separator"],
        decimal=out["decimal_separator"],
        encoding=out["csv_encoding"],
        decimal_places=out["decimal_places"],
        percentage_format=out["percentage_format"],
    )


@dataclass
class _Report:
    conn: object
    folder: Path
    plan: dict
    fmt: ExportFormat
    registry_schema: str | None = None
    sections: list[tuple[str, str, str]] = field(default_factory=list)  # (anchor, title, body)
    _schemas: dict[str, str | None] = field(default_factory=dict)

    def schema(self, relation: str) -> str | None:
        """Where the exporter reads `relation`: staged by this run, else published; None
        when it exists in neither."""
        if relation not in self._schemas:
            self._schemas[relation] = next(
                (
                    s
                    for s in (STAGED_MARTS, PUBLISHED_MARTS)
                    if _relation_exists(self.conn, s, relation)
                ),
                None,
            )
        return self._schemas[relation]

    def has(self, relation: str) -> bool:
        return self.schema(relation) is not None

    def relation(self, relation: str) -> sql.Composable:
        schema = self.schema(relation)
        if schema is None:
            raise ExportError(
                f"relation {relation} exists neither in {STAGED_MARTS} nor in {PUBLISHED_MARTS}"
            )
        return sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(relation))

    def add(self, anchor: str, title: str, *parts: str) -> None:
        self.sections.append((anchor, title, "\n".join(p for p in parts if p)))

    def source(self, name: str) -> str | None:
        """The CSV file of this folder that holds a table, when there is one."""
        return name if (self.folder / name).exists() else None


# --------------------------------------------------------------------------- formatting (the exporter's rules)


def _text(value) -> str:
    """A fetched value as COPY writes it in a CSV file."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "t" if value else "f"
    return str(value)


def _relation_exists(conn, schema: str, name: str) -> bool:
    return conn.execute("select to_regclass(%s) is not null", (f'"{schema}"."{name}"',)).fetchone()[
        0
    ]


@dataclass
class _Table:
    headers: list[str]
    rows: list[list[str]]

    def column(self, name: str) -> list[str]:
        i = self.headers.index(name)
        return [r[i] for r in self.rows]

    def records(self) -> list[dict[str, str]]:
        return [dict(zip(self.headers, r, strict=True)) for r in self.rows]


def _formatted(
    conn,
    fmt: ExportFormat,
    source: sql.Composable,
    columns: list[tuple[str, str]],
    order: str,
    params=None,
) -> _Table:
    """`source` (a query giving raw columns), each column formatted as the CSV files show it."""
    has_unit = any(name == "unite" for name, _ in columns)
    cells = sql.SQL(", ").join(
        sql.SQL("{} as {}").format(
            cell_sql(name, dtype, fmt, has_unit), sql.Identifier(name.upper())
        )
        for name, dtype in columns
    )
    query = sql.SQL("select {} from ({}) as t order by {}").format(cells, source, sql.SQL(order))
    rows = conn.execute(query, params).fetchall()
    return _Table([name.upper() for name, _ in columns], [[_text(v) for v in row] for row in rows])


def _mart(
    report: _Report,
    relation: str,
    columns: list[str] | None = None,
    *,
    order: str,
    where: str | None = None,
    limit: int | None = None,
) -> _Table:
    """Rows of a mart (ordered, optionally filtered and limited), formatted like the CSV files."""
    source = sql.SQL("select * from {}").format(report.relation(relation))
    meta = columns_of(report.conn, report.schema(relation), relation)
    types = dict(meta)
    chosen = [(c, types[c]) for c in columns] if columns else meta
    if where:
        source = sql.SQL("{} where {}").format(source, sql.SQL(where))
    source = sql.SQL("{} order by {}").format(source, sql.SQL(order))
    if limit is not None:
        source = sql.SQL("{} limit {}").format(source, sql.Literal(limit))
    return _formatted(report.conn, report.fmt, source, chosen, order)


def _exported(
    report: _Report, file_name: str, *, where: str | None = None, limit: int | None = None
) -> _Table:
    """The rows of an exported CSV file as the exporter writes them: same mart, same
    columns (the dropped ones left out), same order (`pipeline.FILES`)."""
    mart, order, drop = next(files[file_name] for files in FILES.values() if file_name in files)
    report.relation(mart)  # exists, or a clear error
    columns = [
        name for name, _ in columns_of(report.conn, report.schema(mart), mart) if name not in drop
    ]
    order_sql = ", ".join(f'"{name}"' for name in order)
    return _mart(report, mart, columns, order=order_sql, where=where, limit=limit)


def _num(text: str, fmt: ExportFormat) -> float | None:
    """A formatted value back to a number, only to size a bar."""
    if text is None or text == "":
        return None
    try:
        return float(text.replace(fmt.decimal, "."))
    except ValueError:
        return None


def _indicators(report: _Report, relation: str, group: str) -> dict[str, tuple[str, str, str]]:
    """An indicator mart (valeur + unite) as {indicateur: (group, valeur as in the CSV, unite)}."""
    table = _mart(report, relation, [group, "indicateur", "valeur", "unite"], order="ordre")
    return {r[1]: (r[0], r[2], r[3]) for r in table.rows}


# --------------------------------------------------------------------------- sections: full and corrections runs


def _run_sections(report: _Report) -> None:
    reco = _indicators(report, "run_reconciliation", "section")
    summary = report.source("export_summary.txt")
    figures = [
        ("offres_lues", "Offres lues"),
        ("offres_conservees", "Offres conservées"),
        ("offres_recommandees", "Offres recommandées"),
        ("match_no_match", "Sans corridor (NO_MATCH)"),
        ("pct_hausse_moy", "Hausse moyenne"),
        ("pct_hausse_mediane", "Hausse médiane"),
        ("hausse_euros", "Impact CA (€)"),
        ("pct_impact_ca", "Impact CA (%)"),
        ("ca_4q", "CA 4 trimestres"),
    ]
    cards = _cards([(key, label, *reco[key][1:]) for key, label in figures], summary)
    status = [
        (code, label, reco[key][1], color)
        for (code, label, color), key in zip(
            VALIDATION, ("nb_valide", "nb_a_verifier", "nb_anomalie"), strict=True
        )
    ]
    report.add("chiffres", "Chiffres clés", cards, _status_cards(status, summary))

    held = _held_offers(
        report,
        "recommendations",
        HELD_COLUMNS_RUN,
        "pct_hausse_finale",
        "recommendations_detail.csv",
        int(reco["nb_a_verifier"][1]) + int(reco["nb_anomalie"][1]),
    )
    report.add(
        "validation", "Statut de validation et offres à vérifier", _status_chart(status), held
    )

    dist = _exported(report, "price_increase_distribution.csv")
    histogram = _histogram(
        report, [(r["TRANCHE"], r["NB_OFFRES"], r["PCT_OFFRES"]) for r in dist.records()]
    )
    report.add(
        "hausses",
        "Répartition des hausses",
        histogram,
        _table(
            "price_increase_distribution",
            dist,
            report,
            source=report.source("price_increase_distribution.csv"),
            match="all",
            caption="Offres recommandées par tranche de hausse (PCT_HAUSSE_FINALE)",
        ),
    )
    _analysis_sections(report, reco)
    top = _exported(report, "recommendations_detail.csv", limit=TOP_INCREASES)
    total = int(reco["offres_recommandees"][1])
    report.add(
        "top",
        "Plus fortes hausses",
        _table(
            "top_increases",
            top,
            report,
            source=report.source("recommendations_detail.csv"),
            match="head",
            caption=f"Les {min(TOP_INCREASES, total)} premières lignes de recommendations_detail.csv "
            f"(sur {total} offres recommandées), plus forte hausse d'abord",
        ),
    )
    stats = _exported(report, "statistics_by_dimension.csv")
    report.add(
        "dimensions",
        "Statistiques par dimension",
        _table(
            "statistics_by_dimension",
            stats,
            report,
            source=report.source("statistics_by_dimension.csv"),
            match="all",
            caption="Offres recommandées par TYPE_CLIENT, TYPE_RESTAURANT et UNIVERS",
        ),
    )


def _analysis_sections(report: _Report, reco: dict) -> None:
    """Decision paths, caps, revenue impact and matching: the same in every mode."""
    paths = _exported(report, "decision_path_analysis.csv")
    items = []
    for r in paths.records():
        label, color = DECISION_PATHS.get(r["DECISION_PATH"], (r["DECISION_PATH"], "#1f6fb2"))
        items.append(
            (
                f"{r['DECISION_PATH']} → {r['RECO_SELECTIONNEE']}",
                r["NB_OFFRES"],
                f"{r['NB_OFFRES']} ({r['PCT_OFFRES']} %)",
                color,
            )
        )
    legend = [(label, color) for label, color in DECISION_PATHS.values()]
    chart = _hbar_chart(
        report,
        "decision_paths",
        "Offres par chemin de décision → recommandation retenue",
        items,
        legend=legend,
    )
    report.add(
        "chemins",
        "Chemins de décision × recommandation retenue",
        chart,
        _table(
            "decision_path_analysis",
            paths,
            report,
            source=report.source("decision_path_analysis.csv"),
            match="all",
            caption="Volumes, hausses et plafonds appliqués par chemin de décision",
        ),
    )

    caps_by_type, cross = _by_customer_type(report)
    capping = _exported(report, "capping_distribution.csv")
    report.add(
        "plafonds",
        "Plafonds appliqués (le plafond qui a fixé le prix) par type de client",
        _caps_chart(report, caps_by_type),
        _table(
            "caps_by_type_client",
            caps_by_type,
            report,
            caption="Offres recommandées par TYPE_CLIENT × CAPPING_APPLIED",
        ),
        _table(
            "capping_distribution",
            capping,
            report,
            source=report.source("capping_distribution.csv"),
            match="all",
            caption="Offres par plafond appliqué × chemin de décision × recommandation",
        ),
    )

    impact = _exported(report, "impact_analysis.csv")
    by_type = _exported(report, "statistics_by_dimension.csv", where="dimension = 'TYPE_CLIENT'")
    items = [
        (
            r["VALEUR"],
            r["HAUSSE_EUROS"],
            f"{r['HAUSSE_EUROS']} € ({r['PCT_IMPACT_CA']} %)",
            PALETTE[0],
        )
        for r in by_type.records()
    ]
    report.add(
        "impact",
        "Impact sur le chiffre d'affaires par type de client",
        _heatmap(report, cross),
        _hbar_chart(report, "impact_type_client", "Impact CA (€) par type de client", items),
        _table(
            "impact_type_client_type_restaurant",
            cross,
            report,
            caption="Impact CA par TYPE_CLIENT × TYPE_RESTAURANT (offres recommandées)",
        ),
        _table(
            "impact_analysis",
            impact,
            report,
            source=report.source("impact_analysis.csv"),
            match="all",
            caption="Impact CA par TYPE_CLIENT × UNIVERS et offres par tranche de hausse",
        ),
    )

    rates = [
        ("taux_match_master", "Corridor MASTER", "#1f6fb2"),
        ("taux_match_national", "Corridor NATIONAL", "#2fb5c4"),
        ("taux_no_match", "Sans corridor (NO_MATCH)", "#c8453b"),
        ("taux_type_client", "TYPE_CLIENT renseigné", "#3a9a5b"),
        ("taux_type_restaurant", "TYPE_RESTAURANT renseigné", "#3a9a5b"),
        ("taux_fg_hm", "FG_HM (historique 4T)", "#3a9a5b"),
    ]
    items = [(label, reco[key][1], f"{reco[key][1]} %", color) for key, label, color in rates]
    counts = [
        (key, label, *reco[key][1:])
        for key, label in (
            ("match_master", "Corridor MASTER"),
            ("match_national", "Corridor NATIONAL"),
            ("match_no_match", "Sans corridor (NO_MATCH)"),
        )
    ]
    report.add(
        "matching",
        "Taux de matching et d'enrichissement",
        _cards(counts, report.source("export_summary.txt")),
        _hbar_chart(
            report,
            "match_rates",
            "Part des offres conservées (%)",
            items,
            fixed_max=100.0,
            legend=[("Matching", "#1f6fb2"), ("Enrichissement", "#3a9a5b")],
        ),
    )


def _held_offers(
    report: _Report, relation: str, columns: list[str], pct: str, source: str, count: int
) -> str:
    """The offers to check (VALIDATION_STATUS other than VALIDE; `count` of them), largest
    change first."""
    table = _mart(
        report,
        relation,
        columns,
        where="validation_status <> 'VALIDE'",
        order=f"abs({pct}) desc, id_cln, id_art, id_cnd",
        limit=HELD_OFFERS,
    )
    caption = (
        f"Offres à vérifier : {min(count, HELD_OFFERS)} sur {count}, plus fort écart d'abord "
        f"(A_VERIFIER : hausse au-delà du seuil, ANOMALIE : baisse)"
    )
    return _table(
        "held_offers",
        table,
        report,
        source=report.source(source),
        match="key:ID_CND",
        caption=caption,
    )


def _by_customer_type(report: _Report) -> tuple[_Table, _Table]:
    """In one scan of the recommendations: offers per TYPE_CLIENT × CAPPING_APPLIED, and the
    revenue impact per TYPE_CLIENT × TYPE_RESTAURANT (the rules of impact_analysis)."""
    source = sql.SQL(
        f"""
        with offers as (

            select
                coalesce(type_client, '{UNKNOWN}') as type_client,
                coalesce(type_restaurant, '{UNKNOWN}') as type_restaurant,
                capping_applied,
                count(*) as nb_offres,
                coalesce(sum(ca_4q), 0) as ca_4q,
                coalesce(sum(hausse_euros), 0) as hausse_euros,
                sum(pct_hausse_finale) as pct_hausse_total
            from {{}}
            group by 1, 2, 3

        ),

        by_group as (

            select 2 as grouping_set, type_client, capping_applied as detail,
                sum(nb_offres)::bigint as nb_offres, sum(ca_4q) as ca_4q, sum(hausse_euros) as hausse_euros,
                sum(pct_hausse_total) as pct_hausse_total
            from offers
            group by type_client, capping_applied
            union all
            select 1 as grouping_set, type_client, type_restaurant as detail,
                sum(nb_offres)::bigint, sum(ca_4q), sum(hausse_euros), sum(pct_hausse_total)
            from offers
            group by type_client, type_restaurant

        )

        select
            grouping_set, type_client, detail, nb_offres, ca_4q, hausse_euros,
            case when ca_4q = 0 then 0 else trim_scale(hausse_euros / ca_4q) end as pct_impact_ca,
            trim_scale(pct_hausse_total / nb_offres) as pct_hausse_moy
        from by_group
        """
    ).format(report.relation("recommendations"))
    columns = [
        ("grouping_set", "integer"),
        ("type_client", "text"),
        ("detail", "text"),
        ("nb_offres", "bigint"),
        ("ca_4q", "numeric"),
        ("hausse_euros", "numeric"),
        ("pct_impact_ca", "numeric"),
        ("pct_hausse_moy", "numeric"),
    ]
    table = _formatted(
        report.conn,
        report.fmt,
        source,
        columns,
        'grouping_set, type_client collate "C", detail collate "C"',
    )
    caps = _Table(
        ["TYPE_CLIENT", "CAPPING_APPLIED", "NB_OFFRES"], [r[1:4] for r in table.rows if r[0] == "2"]
    )
    cross = _Table(
        ["TYPE_CLIENT", "TYPE_RESTAURANT", *table.headers[3:]],
        [r[1:] for r in table.rows if r[0] == "1"],
    )
    return caps, cross


# --------------------------------------------------------------------------- section: corrections


def _corrections_section(report: _Report) -> None:
    if not report.has("corrections_comparison"):
        return
    comparison = _exported(report, "corrections_comparison.csv")
    rows = comparison.records()
    total = next((r for r in rows if r["UNIVERS"] == "TOTAL"), None)
    cubes = [
        r
        for r in rows
        if r["UNIVERS"] != "TOTAL" and (_num(r["NB_OFFRES_MODIFIEES"], report.fmt) or 0) > 0
    ]
    cubes.sort(
        key=lambda r: -(_num(r["NB_OFFRES_MODIFIEES"], report.fmt) or 0)
    )  # stable: export order on ties
    shown = cubes[:MAX_CUBES_CHART]
    source = report.source("corrections_comparison.csv")
    parts = []
    if total:
        parts.append(
            _cards(
                [
                    (
                        "corrections:nb_offres_modifiees",
                        "Offres dont le prix change",
                        total["NB_OFFRES_MODIFIEES"],
                        "nombre",
                    ),
                    (
                        "corrections:pct_hausse_moy_avant",
                        "Hausse moyenne avant",
                        total["PCT_HAUSSE_MOY_AVANT"],
                        "taux",
                    ),
                    (
                        "corrections:pct_hausse_moy_apres",
                        "Hausse moyenne après",
                        total["PCT_HAUSSE_MOY_APRES"],
                        "taux",
                    ),
                    (
                        "corrections:hausse_euros_avant",
                        "Impact CA avant (€)",
                        total["HAUSSE_EUROS_AVANT"],
                        "euros",
                    ),
                    (
                        "corrections:hausse_euros_apres",
                        "Impact CA après (€)",
                        total["HAUSSE_EUROS_APRES"],
                        "euros",
                    ),
                    (
                        "corrections:pct_impact_ca_avant",
                        "Impact CA avant (%)",
                        total["PCT_IMPACT_CA_AVANT"],
                        "taux",
                    ),
                    (
                        "corrections:pct_impact_ca_apres",
                        "Impact CA après (%)",
                        total["PCT_IMPACT_CA_APRES"],
                        "taux",
                    ),
                ],
                source and "corrections_comparison.csv",
            )
        )
    labels = [
        " · ".join(v for v in (r["UNIVERS"], r["TYPE_CLIENT"], r["TYPE_RESTAURANT"], r["GEO"]) if v)
        for r in shown
    ]
    note = f"{len(cubes)} cube(s) dont au moins un prix change" + (
        f" ; les {MAX_CUBES_CHART} plus touchés sont dessinés"
        if len(cubes) > MAX_CUBES_CHART
        else ""
    )
    series_pct = [
        (
            "Avant",
            "#9e9e9e",
            [(r["PCT_HAUSSE_MOY_AVANT"], f"{r['PCT_HAUSSE_MOY_AVANT']} %") for r in shown],
        ),
        (
            "Après",
            "#1f6fb2",
            [(r["PCT_HAUSSE_MOY_APRES"], f"{r['PCT_HAUSSE_MOY_APRES']} %") for r in shown],
        ),
    ]
    series_eur = [
        (
            "Avant",
            "#9e9e9e",
            [(r["HAUSSE_EUROS_AVANT"], f"{r['HAUSSE_EUROS_AVANT']} €") for r in shown],
        ),
        (
            "Après",
            "#e07b28",
            [(r["HAUSSE_EUROS_APRES"], f"{r['HAUSSE_EUROS_APRES']} €") for r in shown],
        ),
    ]
    parts += [
        f'<p class="note">{html.escape(note)}</p>',
        _grouped_chart(
            report,
            "corrections_hausse",
            "Hausse moyenne (%) avant / après, par cube modifié",
            labels,
            series_pct,
        ),
        _grouped_chart(
            report,
            "corrections_impact",
            "Impact CA (€) avant / après, par cube modifié",
            labels,
            series_eur,
        ),
        _table(
            "corrections_comparison",
            comparison,
            report,
            source=source,
            match="all",
            caption="Avant / après par cube (toutes les lignes de corrections_comparison.csv)",
        ),
    ]
    report.add("corrections", "Avant / après les corrections", *parts)


# --------------------------------------------------------------------------- sections: final export


def _final_sections(report: _Report) -> None:
    final = _indicators(report, "validation_report", "categorie")
    source = report.source("validation_report.csv")
    figures = [
        ("nb_offres", "Offres exportées"),
        ("nb_clients", "Clients"),
        ("nb_articles", "Articles"),
        ("pct_hausse_moy", "Hausse moyenne"),
        ("pct_hausse_mediane", "Hausse médiane"),
        ("pct_hausse_min", "Hausse minimale"),
        ("pct_hausse_max", "Hausse maximale"),
        ("hausse_euros", "Impact CA (€)"),
        ("pct_impact_ca", "Impact CA (%)"),
        ("ca_4q", "CA 4 trimestres"),
    ]
    cards = _cards(
        [(key, label, *final[key][1:]) for key, label in figures],
        source and "validation_report.csv",
    )
    status = [(code, label, final[code][1], color) for code, label, color in VALIDATION]
    parts = [cards, _status_cards(status, source and "validation_report.csv", prefix="validation:")]
    if report.has("run_reconciliation"):
        reco = _indicators(report, "run_reconciliation", "section")
        parts.append("<h3>Volumes de l'exécution qui a calculé ces prix</h3>")
        parts.append(
            _cards(
                [
                    (key, label, *reco[key][1:])
                    for key, label in (
                        ("offres_lues", "Offres lues"),
                        ("offres_conservees", "Offres conservées"),
                        ("offres_recommandees", "Offres recommandées"),
                        ("match_no_match", "Sans corridor (NO_MATCH)"),
                    )
                ],
                report.source("export_summary.txt"),
            )
        )
    else:
        reco = None
    report.add("chiffres", "Chiffres clés de l'export final", *parts)

    held = _held_offers(
        report,
        "final_price_offers",
        HELD_COLUMNS_FINAL,
        "pct_hausse",
        "final_price_offers.csv",
        int(final["A_VERIFIER"][1]) + int(final["ANOMALIE"][1]),
    )
    report.add(
        "validation", "Statut de validation et offres à vérifier", _status_chart(status), held
    )

    nb = final["nb_offres"][1]
    total = _num(nb, report.fmt) or 0
    bands = []
    for band in BANDS:
        count = final[band][1]
        share = _percent_text(_num(count, report.fmt) or 0, total, report.fmt)
        bands.append((band, count, share))
    report_table = _exported(report, "validation_report.csv")
    report.add(
        "hausses",
        "Répartition des hausses",
        _histogram(report, bands),
        _table(
            "validation_report",
            report_table,
            report,
            source=source,
            match="all",
            caption="validation_report.csv : indicateurs de l'export final",
        ),
    )
    if reco is not None and report.has("decision_path_analysis"):
        _analysis_sections(report, reco)
    top = _mart(
        report,
        "final_price_offers",
        None,
        order="pct_hausse desc, id_cln, id_art, id_cnd",
        limit=TOP_INCREASES,
    )
    report.add(
        "top",
        "Plus fortes hausses",
        _table(
            "top_increases",
            top,
            report,
            source=report.source("final_price_offers.csv"),
            match="key:ID_CND",
            caption=f"Les {min(TOP_INCREASES, int(total))} plus fortes hausses de final_price_offers.csv (sur {nb} offres)",
        ),
    )


def _percent_text(part: float, whole: float, fmt: ExportFormat) -> str:
    """A share computed here (not in a CSV), rounded half away from zero."""
    if not whole:
        return f"{0:.{fmt.percentage_format}f}".replace(".", fmt.decimal)
    value = (Decimal(int(part)) * 100 / Decimal(int(whole))).quantize(
        Decimal(1).scaleb(-fmt.percentage_format), ROUND_HALF_UP
    )
    return f"{value:f}".replace(".", fmt.decimal)


# --------------------------------------------------------------------------- section: price registry (optional)

SEVERITIES = [
    ("critical", "Critique", "#7f1d1d"),
    ("high", "Élevée", "#c8453b"),
    ("medium", "Moyenne", "#e07b28"),
    ("low", "Faible", "#e8c547"),
]
REGISTRY_ANOMALIES_CSV = "price_registry_anomalies.csv"
# the columns of price_observations the alerts table shows (PRICE_REGISTRY_RULES.md, lowercased)
ANOMALY_COLUMNS = (
    "observation_id item_key context_key category recorded_at unit_price average_price"
    " deviation_percent price_rank severity is_anomaly source_type supplier"
).split()


@dataclass
class _Flagged:
    """The flagged observations (an anomaly or a severity): counts and the largest deviations."""

    top: _Table
    total: int
    severities: dict[str, int]
    anomalies: int
    pending: int | None  # anomalies not reviewed yet; None when there is no review status


def _registry_section(report: _Report) -> None:
    schema = report.registry_schema or report.schema("price_observations")
    conn = report.conn
    if schema is None or not _relation_exists(conn, schema, "price_observations"):
        return
    try:
        with conn.transaction():  # a savepoint: a surprise in these marts never spoils the export
            parts = _registry_parts(report, schema)
    except Exception as exc:  # noqa: BLE001 - shown in the page, the rest of the report stands
        parts = [
            f'<p class="warning">Section indisponible : {html.escape(type(exc).__name__)} : '
            f"{html.escape(str(exc).splitlines()[0] if str(exc) else '')}</p>"
        ]
    report.add("registre", "Registre des prix : anomalies et évolution", *parts)


def _registry_parts(report: _Report, schema: str) -> list[str]:
    conn = report.conn
    obs_cols = dict(columns_of(conn, schema, "price_observations"))
    total = _observation_count(conn, schema)
    if _relation_exists(conn, schema, "price_registry_anomalies"):
        flagged = _flagged_from_anomalies_mart(report, schema)
    else:
        flagged = _flagged_from_mart(report, schema, obs_cols)
    cards = [
        ("registre:observations", "Observations de prix", str(total), "nombre"),
        ("registre:anomalies", "Anomalies", str(flagged.anomalies), "nombre"),
    ]
    if flagged.pending is not None:
        cards.append(
            ("registre:en_attente", "Anomalies en attente de revue", str(flagged.pending), "nombre")
        )
    inflation = _registry_inflation(
        report, report.registry_schema or report.schema("price_inflation")
    )
    if inflation and inflation["latest"]:
        label = f"Inflation moyenne {inflation['latest_label']} (vs mois précédent)"
        cards.append(("registre:inflation", label, inflation["latest"], "pourcent"))
    parts = [_cards(cards, None)]
    items = [
        (label, str(flagged.severities[code]), str(flagged.severities[code]), color)
        for code, label, color in SEVERITIES
    ]
    parts.append(
        _hbar_chart(report, "registry_severity", "Observations signalées par sévérité", items)
    )
    if inflation:
        parts.append(
            _line_chart(
                report,
                "registry_evolution",
                "Évolution des prix : variation mensuelle moyenne (%) sur toutes les catégories",
                inflation["months"],
                inflation["series"],
            )
        )
        parts.append(
            _hbar_chart(
                report,
                "registry_top_categories",
                "Top 10 des hausses par catégorie (variation sur 3 mois, dernier mois)",
                inflation["top"],
                legend=[("Alerte inflation", "#c8453b"), ("Sans alerte", "#1f6fb2")],
            )
        )
    top = _top_registry_increases(report, schema, obs_cols)
    if top is not None:
        caption = "Top 10 des augmentations : observations les plus au-dessus de leur prix moyen"
        parts.append(_table("registry_top_increases", top, report, caption=caption))
    source = report.source(REGISTRY_ANOMALIES_CSV)
    parts.append(
        _table(
            "registry_anomalies",
            flagged.top,
            report,
            source=source,
            match="key:OBSERVATION_ID" if source else None,
            caption=f"Alertes : {len(flagged.top.rows)} sur {flagged.total} observations "
            "signalées, plus fort écart d'abord",
        )
    )
    return parts


def _flagged_from_anomalies_mart(report: _Report, schema: str) -> _Flagged:
    """The rows and counts of price_registry_anomalies.csv, from the mart it is exported
    from: the run's own file in a full run, the last one in a corrections or final run.
    At seed scale 0.4 s, against 3.9 s to parse the 1.7-million-line file and 3 s to scan
    the ten million observations twice."""
    relation = sql.SQL("{}.price_registry_anomalies").format(sql.Identifier(schema))
    counts = report.conn.execute(
        sql.SQL(
            "select severity, count(*), count(*) filter (where is_anomaly = 'true'),"
            " count(*) filter (where is_anomaly = 'true' and coalesce(status, '') in ('', 'pending'))"
            " from {} group by severity"
        ).format(relation)
    ).fetchall()
    severities = {code: 0 for code, _, _ in SEVERITIES}
    for code, n, _, _ in counts:
        if code in severities:
            severities[code] = n
    _mart_name, _order, drop = next(
        files[REGISTRY_ANOMALIES_CSV] for files in FILES.values() if REGISTRY_ANOMALIES_CSV in files
    )
    columns = [(name, dtype) for name, dtype in columns_of(report.conn, schema, "price_registry_anomalies") if name not in drop]
    # the file's top: largest |deviation| first, file order (sort_order) on ties
    order = "abs(deviation_percent) desc nulls last, sort_order"
    source = sql.SQL("select * from {} order by {} limit {}").format(relation, sql.SQL(order), sql.Literal(TOP_ANOMALIES))
    top = _formatted(report.conn, report.fmt, source, columns, order)
    return _Flagged(
        top,
        sum(n for _, n, _, _ in counts),
        severities,
        sum(a for _, _, a, _ in counts),
        sum(p for _, _, _, p in counts),
    )


def _flagged_from_mart(report: _Report, schema: str, obs_cols: dict) -> _Flagged:
    """The same from price_observations when the warehouse has no anomalies mart: counts
    by aggregate, the largest deviations by a top-N query."""
    status = next((c for c in ("review_status", "status") if c in obs_cols), None)
    relation = sql.SQL("{}.price_observations").format(sql.Identifier(schema))
    where = sql.SQL("where is_anomaly or severity is not null")
    pending = (
        sql.SQL(
            "count(*) filter (where is_anomaly and coalesce({}, 'pending') = 'pending')"
        ).format(sql.Identifier(status))
        if status
        else sql.SQL("null::bigint")
    )
    counts = report.conn.execute(
        sql.SQL(
            "select severity, count(*), count(*) filter (where is_anomaly), {} from {} {} group by severity"
        ).format(pending, relation, where)
    ).fetchall()
    severities = {code: 0 for code, _, _ in SEVERITIES}
    for code, n, _, _ in counts:
        if code in severities:
            severities[code] = n
    wanted = [c for c in (*ANOMALY_COLUMNS, status) if c and c in obs_cols]
    order = "abs(deviation_percent) desc nulls last, observation_id"
    source = sql.SQL("select * from {} {} order by {} limit {}").format(
        relation, where, sql.SQL(order), sql.Literal(TOP_ANOMALIES)
    )
    top = _formatted(report.conn, report.fmt, source, [(c, obs_cols[c]) for c in wanted], order)
    return _Flagged(
        top,
        sum(n for _, n, _, _ in counts),
        severities,
        sum(a for _, _, a, _ in counts),
        sum(p for _, _, _, p in counts) if status else None,
    )


def _observation_count(conn, schema: str) -> int:
    """The number of observations: the `observations` row of price_registry_counts (the
    run summary's count), else a count of the ten million rows (~1 s at seed scale)."""
    if _relation_exists(conn, schema, "price_registry_counts"):
        query = "select valeur from {}.price_registry_counts where indicateur = 'observations'"
        row = conn.execute(sql.SQL(query).format(sql.Identifier(schema))).fetchone()
        if row is not None:
            return row[0]
    return conn.execute(
        sql.SQL("select count(*) from {}.price_observations").format(sql.Identifier(schema))
    ).fetchone()[0]


def _top_registry_increases(report: _Report, schema: str, obs_cols: dict) -> _Table | None:
    """The ten observations furthest above their average: the mart
    price_registry_top_increases, else the same top-N query on price_observations."""
    if "deviation_percent" not in obs_cols:
        return None
    wanted = [
        c
        for c in (
            "observation_id",
            "category",
            "item_key",
            "context_key",
            "description",
            "recorded_at",
            "unit_price",
            "average_price",
            "deviation_percent",
            "severity",
        )
        if c in obs_cols
    ]
    if _relation_exists(report.conn, schema, "price_registry_top_increases"):
        source = sql.SQL("select * from {}.price_registry_top_increases").format(
            sql.Identifier(schema)
        )
    else:
        source = sql.SQL(
            "select * from {}.price_observations where deviation_percent > 0"
            " order by deviation_percent desc, observation_id limit 10"
        ).format(sql.Identifier(schema))
    return _formatted(
        report.conn,
        report.fmt,
        source,
        [(c, obs_cols[c]) for c in wanted],
        "deviation_percent desc, observation_id",
    )


def _registry_inflation(report: _Report, schema: str | None) -> dict | None:
    """Monthly mean change over categories and the top categories of the latest month, from
    `price_inflation` (one row per category and month). Its column names are not fixed by
    the spec beyond CATEGORY and INFLATION_ALERT: the month is its first date column, the
    changes the numeric columns whose names say 1 month / 3 months."""
    conn, fmt = report.conn, report.fmt
    if schema is None or not _relation_exists(conn, schema, "price_inflation"):
        return None
    cols = columns_of(conn, schema, "price_inflation")
    names = [c for c, _ in cols]
    month = next((c for c, t in cols if t == "date"), None) or next(
        (c for c in names if "month" in c or "mois" in c), None
    )
    numeric = [c for c, t in cols if t == "numeric"]
    one = next(
        (c for c in numeric if any(k in c for k in ("1m", "prev", "mom", "previous", "_1_"))), None
    )
    three = next(
        (c for c in numeric if any(k in c for k in ("3m", "three", "_3_", "3_month"))), None
    )
    alert = next((c for c in names if "alert" in c), None)
    if "category" not in names or month is None or one is None:
        return None
    places = fmt.percentage_format
    ident = sql.Identifier
    rows = conn.execute(
        sql.SQL(
            "select {m}::text, replace(round(avg({one}), {p})::text, '.', %s) from {s}.price_inflation "
            "where {one} is not null group by {m} order by {m}"
        ).format(m=ident(month), one=ident(one), p=sql.Literal(places), s=ident(schema)),
        (fmt.decimal,),
    ).fetchall()
    rows = rows[-24:]
    months = [r[0] for r in rows]
    series = [
        ("Variation moyenne vs mois précédent", "#1f6fb2", [(r[1], f"{r[1]} %") for r in rows])
    ]
    top = []
    measure = three or one
    if rows:
        alert_sql = (
            sql.SQL("coalesce({}::boolean, false)").format(ident(alert))
            if alert
            else sql.SQL("false")
        )
        latest = conn.execute(
            sql.SQL(
                "select category, replace(round({x}, {p})::text, '.', %s), {a} from {s}.price_inflation "
                "where {m} = (select max({m}) from {s}.price_inflation) and {x} is not null "
                "order by {x} desc, category limit 10"
            ).format(
                x=ident(measure),
                p=sql.Literal(places),
                a=alert_sql,
                s=ident(schema),
                m=ident(month),
            ),
            (fmt.decimal,),
        ).fetchall()
        top = [(_text(c), v, f"{v} %", "#c8453b" if a else "#1f6fb2") for c, v, a in latest]
    return {
        "months": months,
        "series": series,
        "top": top,
        "latest": rows[-1][1] if rows else None,
        "latest_label": months[-1][:7] if months else "",
    }


# --------------------------------------------------------------------------- HTML pieces

UNITS = {"nombre": "", "taux": " %", "euros": " €", "pourcent": " %"}


def _cards(figures: list[tuple[str, str, str, str]], source: str | None) -> str:
    """Key figures: (key, label, value as in the CSV, unit)."""
    out = ['<div class="cards">']
    for key, label, value, unit in figures:
        src = f' data-source="{html.escape(source)}"' if source else ""
        out.append(
            f'<div class="card"><div class="card-label">{html.escape(label)}</div>'
            f'<div class="card-value"><span data-figure="{html.escape(key)}"{src}>{html.escape(value)}</span>'
            f'<span class="unit">{html.escape(UNITS.get(unit, ""))}</span></div></div>'
        )
    out.append("</div>")
    return "".join(out)


def _status_cards(
    status: list[tuple[str, str, str, str]], source: str | None, prefix: str = ""
) -> str:
    out = ['<div class="cards">']
    keys = {"VALIDE": "nb_valide", "A_VERIFIER": "nb_a_verifier", "ANOMALIE": "nb_anomalie"}
    for code, label, value, color in status:
        key = f"{prefix}{code}" if prefix else keys[code]
        src = f' data-source="{html.escape(source)}"' if source else ""
        out.append(
            f'<div class="card status" style="border-left-color:{color}"><div class="card-label">'
            f"VALIDATION_STATUS {html.escape(code)}<br><small>{html.escape(label)}</small></div>"
            f'<div class="card-value"><span data-figure="{html.escape(key)}"{src}>{html.escape(value)}</span></div></div>'
        )
    out.append("</div>")
    return "".join(out)


def _table(
    name: str,
    table: _Table,
    report: _Report,
    *,
    source: str | None = None,
    match: str | None = None,
    caption: str = "",
) -> str:
    """A sortable, filterable table. `source` names the CSV file of the folder whose values it
    shows; `match` says how: all (every row, in order), head (its first rows), key:COL (rows
    of the file picked by COL)."""
    fmt = report.fmt
    numeric = []
    for i in range(len(table.headers)):
        values = [r[i] for r in table.rows if r[i] != ""]
        numeric.append(bool(values) and all(_num(v, fmt) is not None for v in values))
    attrs = f' data-table="{name}"'
    if source:
        attrs += f' data-source="{html.escape(source)}"'
        if match:
            attrs += f' data-match="{html.escape(match)}"'
    out = [
        f'<div class="table-block"><div class="table-tools"><span class="table-caption">{html.escape(caption)}</span>'
        f'<input type="search" data-filter="{name}" placeholder="Filtrer…" aria-label="Filtrer le tableau">'
        f'<span class="count" data-count-for="{name}">{len(table.rows)} lignes</span></div>'
        f'<div class="table-scroll"><table{attrs}><thead><tr>'
    ]
    for header, is_num in zip(table.headers, numeric, strict=True):
        cls = ' class="num"' if is_num else ""
        out.append(
            f'<th data-col="{html.escape(header)}"{cls} title="Trier">{html.escape(header)}</th>'
        )
    out.append("</tr></thead><tbody>")
    for row in table.rows:
        cells = "".join(
            f'<td class="num">{html.escape(v)}</td>' if is_num else f"<td>{html.escape(v)}</td>"
            for v, is_num in zip(row, numeric, strict=True)
        )
        out.append(f"<tr>{cells}</tr>")
    if not table.rows:
        out.append(
            f'<tr class="empty-row"><td colspan="{len(table.headers)}">Aucune ligne</td></tr>'
        )
    out.append("</tbody></table></div></div>")
    return "".join(out)


# --------------------------------------------------------------------------- charts (inline SVG)

FONT = 12
W = 900  # every chart's viewBox width


def _esc(value) -> str:
    return html.escape(str(value), quote=True)


def _figure(name: str, title: str, width: int, height: int, body: list[str], legend=None) -> str:
    legend_html = ""
    if legend:
        legend_html = (
            '<div class="legend">'
            + "".join(
                f'<span><i style="background:{color}"></i>{_esc(label)}</span>'
                for label, color in legend
            )
            + "</div>"
        )
    return (
        f'<figure class="chart" data-chart="{name}"><figcaption>{_esc(title)}</figcaption>{legend_html}'
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{_esc(title)}" font-family="system-ui, sans-serif" font-size="{FONT}">'
        + "".join(body)
        + "</svg></figure>"
    )


def _empty(name: str, title: str) -> str:
    return _figure(
        name,
        title,
        W,
        60,
        [
            f'<text class="empty" x="{W / 2}" y="35" text-anchor="middle" fill="#666">Aucune donnée</text>'
        ],
    )


def _nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    if hi <= lo:
        hi = lo + 1
    raw = (hi - lo) / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    start = math.floor(lo / step) * step
    ticks, v = [], start
    while v <= hi + step * 1e-9:
        ticks.append(round(v, 10))
        v += step
    if ticks[-1] < hi:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def _tick_label(value: float, fmt: ExportFormat) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))
    return text.replace(".", fmt.decimal)


def _bar(
    x: float, y: float, w: float, h: float, color: str, label: str, value: str, tooltip: str
) -> str:
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0.5):.1f}" height="{max(h, 0.5):.1f}" fill="{color}" '
        f'data-label="{_esc(label)}" data-value="{_esc(value)}"><title>{_esc(tooltip)}</title></rect>'
    )


def _histogram(report: _Report, bands: list[tuple[str, str, str]]) -> str:
    """Offers per increase band: (band, count as in the CSV, share % as in the CSV)."""
    name, title = "increase_histogram", "Nombre d'offres par tranche de hausse"
    fmt = report.fmt
    counts = [_num(c, fmt) or 0 for _, c, _ in bands]
    if not bands:
        return _empty(name, title)
    left, right, top, bottom, height = 60, 20, 30, 50, 340
    plot_h = height - top - bottom
    ticks = _nice_ticks(0, max(counts) or 1)
    vmax = ticks[-1]
    slot = (W - left - right) / len(bands)
    body = []
    for t in ticks:
        y = top + plot_h - t / vmax * plot_h
        body.append(
            f'<line x1="{left}" x2="{W - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e3e3e3"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#555">{_tick_label(t, fmt)}</text>'
        )
    for i, ((band, count, share), value) in enumerate(zip(bands, counts, strict=True)):
        h = value / vmax * plot_h
        x = left + i * slot + slot * 0.15
        y = top + plot_h - h
        color = BAND_COLORS[BANDS.index(band)] if band in BANDS else PALETTE[0]
        body.append(
            _bar(x, y, slot * 0.7, h, color, band, count, f"{band} : {count} offres ({share} %)")
        )
        cx = x + slot * 0.35
        body.append(
            f'<text x="{cx:.1f}" y="{y - 16:.1f}" text-anchor="middle" font-weight="600">{_esc(count)}</text>'
            f'<text x="{cx:.1f}" y="{y - 4:.1f}" text-anchor="middle" fill="#555" font-size="11">{_esc(share)} %</text>'
            f'<text x="{cx:.1f}" y="{top + plot_h + 18}" text-anchor="middle">{_esc(band)}</text>'
        )
    body.append(
        f'<line x1="{left}" x2="{W - right}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="#888"/>'
    )
    body.append(
        f'<text x="{left + (W - left - right) / 2}" y="{height - 8}" text-anchor="middle" fill="#555">'
        "Tranche de hausse (PCT_HAUSSE_FINALE)</text>"
    )
    return _figure(name, title, W, height, body)


def _hbar_chart(
    report: _Report,
    name: str,
    title: str,
    items: list[tuple[str, str, str, str]],
    *,
    fixed_max: float | None = None,
    legend=None,
) -> str:
    """Horizontal bars: (label, value as in the CSV, text shown, color); negatives go left."""
    fmt = report.fmt
    if not items:
        return _empty(name, title)
    values = [_num(v, fmt) or 0 for _, v, _, _ in items]
    label_w, text_w, row_h, top = 330, 150, 26, 10
    lo = min(0.0, *values)
    hi = fixed_max if fixed_max is not None else max(0.0, *values)
    if hi == lo:
        hi = lo + 1
    plot_x, plot_w = label_w, W - label_w - text_w
    height = top + row_h * len(items) + 30

    def sx(v: float) -> float:
        return plot_x + (v - lo) / (hi - lo) * plot_w

    body = []
    for t in _nice_ticks(lo, hi):
        if lo <= t <= hi:
            x = sx(t)
            body.append(
                f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{height - 25}" stroke="#eee"/>'
                f'<text x="{x:.1f}" y="{height - 10}" text-anchor="middle" fill="#777" font-size="10">'
                f"{_tick_label(t, fmt)}</text>"
            )
    zero = sx(0)
    for i, ((label, value, text, color), v) in enumerate(zip(items, values, strict=True)):
        y = top + i * row_h
        x0, x1 = sorted((zero, sx(v)))
        body.append(
            f'<text x="{label_w - 8}" y="{y + row_h / 2 + 4:.1f}" text-anchor="end">{_esc(_short(label, 48))}</text>'
        )
        body.append(_bar(x0, y + 4, x1 - x0, row_h - 8, color, label, value, f"{label} : {text}"))
        body.append(
            f'<text x="{max(x1, zero) + 6:.1f}" y="{y + row_h / 2 + 4:.1f}" fill="#333">{_esc(text)}</text>'
        )
    body.append(
        f'<line x1="{zero:.1f}" x2="{zero:.1f}" y1="{top}" y2="{height - 25}" stroke="#888"/>'
    )
    return _figure(name, title, W, height, body, legend)


def _grouped_chart(
    report: _Report,
    name: str,
    title: str,
    labels: list[str],
    series: list[tuple[str, str, list[tuple[str, str]]]],
) -> str:
    """Horizontal bars grouped by category, one bar per series (e.g. before / after)."""
    fmt = report.fmt
    if not labels:
        return _empty(name, title)
    values = [_num(v, fmt) or 0 for _, _, points in series for v, _ in points]
    label_w, text_w, bar_h, gap, top = 330, 120, 14, 10, 10
    lo, hi = min(0.0, *values), max(0.0, *values)
    if hi == lo:
        hi = lo + 1
    plot_w = W - label_w - text_w
    group_h = bar_h * len(series) + gap
    height = top + group_h * len(labels) + 30

    def sx(v: float) -> float:
        return label_w + (v - lo) / (hi - lo) * plot_w

    body = []
    for t in _nice_ticks(lo, hi):
        if lo <= t <= hi:
            x = sx(t)
            body.append(
                f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{height - 25}" stroke="#eee"/>'
                f'<text x="{x:.1f}" y="{height - 10}" text-anchor="middle" fill="#777" font-size="10">'
                f"{_tick_label(t, fmt)}</text>"
            )
    zero = sx(0)
    for i, label in enumerate(labels):
        y = top + i * group_h
        body.append(
            f'<text x="{label_w - 8}" y="{y + group_h / 2:.1f}" text-anchor="end">{_esc(_short(label, 48))}</text>'
        )
        for j, (serie, color, points) in enumerate(series):
            value, text = points[i]
            v = _num(value, fmt) or 0
            x0, x1 = sorted((zero, sx(v)))
            by = y + j * bar_h
            body.append(
                _bar(
                    x0,
                    by,
                    x1 - x0,
                    bar_h - 2,
                    color,
                    f"{label} · {serie}",
                    value,
                    f"{label} · {serie} : {text}",
                )
            )
            body.append(
                f'<text x="{max(x1, zero) + 4:.1f}" y="{by + bar_h - 4:.1f}" font-size="10" fill="#333">'
                f"{_esc(text)}</text>"
            )
    body.append(
        f'<line x1="{zero:.1f}" x2="{zero:.1f}" y1="{top}" y2="{height - 25}" stroke="#888"/>'
    )
    return _figure(name, title, W, height, body, [(serie, color) for serie, color, _ in series])


def _caps_chart(report: _Report, table: _Table) -> str:
    """100 % stacked bars: per TYPE_CLIENT, the share of offers by the cap that bound the price."""
    name, title = (
        "caps_by_type_client",
        "Plafond appliqué (CAPPING_APPLIED) par type de client, en part des offres",
    )
    if not table.rows:
        return _empty(name, title)
    by_type: dict[str, dict[str, str]] = {}
    for type_client, cap, count in table.rows:
        by_type.setdefault(type_client, {})[cap] = count
    known = [code for code, _, _ in CAPS]
    extra = sorted({cap for caps in by_type.values() for cap in caps} - set(known))
    segments = [(code, label, color) for code, label, color in CAPS] + [
        (c, c, PALETTE[i % len(PALETTE)]) for i, c in enumerate(extra)
    ]
    label_w, text_w, row_h, top = 190, 90, 28, 10
    plot_w = W - label_w - text_w
    height = top + row_h * len(by_type) + 10
    body = []
    for i, (type_client, caps) in enumerate(by_type.items()):
        y = top + i * row_h
        total = sum(int(v) for v in caps.values())
        body.append(
            f'<text x="{label_w - 8}" y="{y + row_h / 2 + 4:.1f}" text-anchor="end">{_esc(type_client)}</text>'
        )
        x = label_w
        for code, label, color in segments:
            if code not in caps:
                continue
            count = caps[code]
            w = int(count) / total * plot_w if total else 0
            body.append(
                _bar(
                    x,
                    y + 4,
                    w,
                    row_h - 8,
                    color,
                    f"{type_client} · {code}",
                    count,
                    f"{type_client} · {label} ({code}) : {count} offres sur {total}",
                )
            )
            if w > 28:
                body.append(
                    f'<text x="{x + w / 2:.1f}" y="{y + row_h / 2 + 4:.1f}" text-anchor="middle" fill="#fff" '
                    f'font-size="11">{_esc(count)}</text>'
                )
            x += w
        body.append(
            f'<text x="{W - text_w + 6}" y="{y + row_h / 2 + 4:.1f}" fill="#333">{total} offres</text>'
        )
    legend = [(f"{label} ({code})", color) for code, label, color in segments]
    return _figure(name, title, W, height, body, legend)


def _heatmap(report: _Report, table: _Table) -> str:
    """Revenue impact % per TYPE_CLIENT (rows) × TYPE_RESTAURANT (columns)."""
    name, title = "impact_heatmap", "Impact CA (%) par type de client × type de restaurant"
    fmt = report.fmt
    if not table.rows:
        return _empty(name, title)
    records = table.records()
    rows = sorted(dict.fromkeys(r["TYPE_CLIENT"] for r in records), key=lambda v: (v == UNKNOWN, v))
    cols = sorted(
        dict.fromkeys(r["TYPE_RESTAURANT"] for r in records), key=lambda v: (v == UNKNOWN, v)
    )
    cells = {(r["TYPE_CLIENT"], r["TYPE_RESTAURANT"]): r for r in records}
    values = [abs(_num(r["PCT_IMPACT_CA"], fmt) or 0) for r in records]
    vmax = max(values) or 1
    label_w, head_h, cell_h = 160, 60, 34
    cell_w = min(140, (W - label_w) / len(cols))
    width = int(label_w + cell_w * len(cols)) + 10
    height = head_h + cell_h * len(rows) + 10
    body = []
    for j, col in enumerate(cols):
        x = label_w + j * cell_w + cell_w / 2
        lines = _wrap(col, max(6, int(cell_w / 7)))
        spans = "".join(
            f'<tspan x="{x:.1f}" dy="{0 if k == 0 else 13}">{_esc(line)}</tspan>'
            for k, line in enumerate(lines)
        )
        body.append(
            f'<text y="{head_h - 10 - 13 * (len(lines) - 1)}" text-anchor="middle" font-size="11">{spans}</text>'
        )
    for i, row in enumerate(rows):
        y = head_h + i * cell_h
        body.append(
            f'<text x="{label_w - 8}" y="{y + cell_h / 2 + 4:.1f}" text-anchor="end">{_esc(row)}</text>'
        )
        for j, col in enumerate(cols):
            x = label_w + j * cell_w
            r = cells.get((row, col))
            if r is None:
                body.append(
                    f'<rect x="{x + 1:.1f}" y="{y + 1:.1f}" width="{cell_w - 2:.1f}" height="{cell_h - 2}" fill="#f4f4f4"/>'
                )
                continue
            v = _num(r["PCT_IMPACT_CA"], fmt) or 0
            strength = min(abs(v) / vmax, 1)
            color = _mix("#ffffff", "#c8453b" if v < 0 else "#1f6fb2", 0.1 + 0.9 * strength)
            ink = "#fff" if strength > 0.55 else "#222"
            tip = (
                f"{row} × {col} : impact {r['PCT_IMPACT_CA']} % ({r['HAUSSE_EUROS']} € sur {r['CA_4Q']} €), "
                f"{r['NB_OFFRES']} offres, hausse moyenne {r['PCT_HAUSSE_MOY']} %"
            )
            body.append(
                _bar(
                    x + 1,
                    y + 1,
                    cell_w - 2,
                    cell_h - 2,
                    color,
                    f"{row} × {col}",
                    r["PCT_IMPACT_CA"],
                    tip,
                )
            )
            body.append(
                f'<text x="{x + cell_w / 2:.1f}" y="{y + cell_h / 2 + 4:.1f}" text-anchor="middle" fill="{ink}">'
                f"{_esc(r['PCT_IMPACT_CA'])} %</text>"
            )
    return _figure(
        name, title, width, height, body, [("Hausse du CA", "#1f6fb2"), ("Baisse du CA", "#c8453b")]
    )


def _line_chart(
    report: _Report,
    name: str,
    title: str,
    x_labels: list[str],
    series: list[tuple[str, str, list[tuple[str, str]]]],
) -> str:
    fmt = report.fmt
    points = [_num(v, fmt) for _, _, pts in series for v, _ in pts if _num(v, fmt) is not None]
    if not x_labels or not points:
        return _empty(name, title)
    left, right, top, bottom, height = 60, 20, 20, 50, 300
    plot_w, plot_h = W - left - right, height - top - bottom
    ticks = _nice_ticks(min(0.0, *points), max(0.0, *points))
    lo, hi = ticks[0], ticks[-1]
    step = plot_w / max(len(x_labels) - 1, 1)

    def sy(v: float) -> float:
        return top + plot_h - (v - lo) / (hi - lo) * plot_h

    body = []
    for t in ticks:
        body.append(
            f'<line x1="{left}" x2="{W - right}" y1="{sy(t):.1f}" y2="{sy(t):.1f}" stroke="#e3e3e3"/>'
            f'<text x="{left - 6}" y="{sy(t) + 4:.1f}" text-anchor="end" fill="#555">{_tick_label(t, fmt)}</text>'
        )
    every = max(1, len(x_labels) // 12)
    for i, label in enumerate(x_labels):
        if i % every == 0:
            body.append(
                f'<text x="{left + i * step:.1f}" y="{top + plot_h + 18}" text-anchor="middle" font-size="10">'
                f"{_esc(label[:7])}</text>"
            )
    for _serie, color, pts in series:
        coords = [
            (left + i * step, sy(_num(v, fmt)))
            for i, (v, _) in enumerate(pts)
            if _num(v, fmt) is not None
        ]
        body.append(
            f'<polyline fill="none" stroke="{color}" stroke-width="2" points="'
            + " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
            + '"/>'
        )
        for i, (v, text) in enumerate(pts):
            if _num(v, fmt) is None:
                continue
            body.append(
                f'<circle cx="{left + i * step:.1f}" cy="{sy(_num(v, fmt)):.1f}" r="3.5" fill="{color}" '
                f'data-label="{_esc(x_labels[i])}" data-value="{_esc(v)}"><title>{_esc(x_labels[i])} : '
                f"{_esc(text)}</title></circle>"
            )
    return _figure(name, title, W, height, body, [(s, c) for s, c, _ in series])


def _status_chart(status: list[tuple[str, str, str, str]]) -> str:
    """One bar split by VALIDATION_STATUS."""
    name, title = "validation_status", "Offres par statut de validation"
    counts = [int(v) for _, _, v, _ in status]
    total = sum(counts)
    if not total:
        return _empty(name, title)
    body, x, width = [], 10.0, W - 20
    for (code, label, value, color), n in zip(status, counts, strict=True):
        w = n / total * width
        body.append(_bar(x, 10, w, 36, color, code, value, f"{label} ({code}) : {value} offres"))
        if w > 50:
            body.append(
                f'<text x="{x + w / 2:.1f}" y="33" text-anchor="middle" fill="#fff" font-weight="600">{_esc(value)}</text>'
            )
        x += w
    return _figure(
        name, title, W, 56, body, [(f"{label} ({code})", color) for code, label, _, color in status]
    )


def _wrap(text: str, width: int) -> list[str]:
    """At most two lines, cut after an underscore or a space."""
    if len(text) <= width:
        return [text]
    cut = max(text.rfind("_", 0, width + 1), text.rfind(" ", 0, width + 1))
    cut = cut + 1 if cut > 0 else width
    return [text[:cut], _short(text[cut:], width)]


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _mix(a: str, b: str, t: float) -> str:
    ca = [int(a[i : i + 2], 16) for i in (1, 3, 5)]
    cb = [int(b[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(x + (y - x) * t):02x}" for x, y in zip(ca, cb, strict=True))


# --------------------------------------------------------------------------- the page

CSS = """
:root { --ink:#1d2433; --muted:#5b6577; --line:#dfe3ea; --accent:#1f6fb2; --bg:#f6f7f9; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif; color:var(--ink); background:var(--bg); }
header { background:#14365a; color:#fff; padding:18px 28px 12px; }
header h1 { margin:0 0 4px; font-size:22px; }
header .meta { display:flex; flex-wrap:wrap; gap:6px 22px; font-size:13px; opacity:.92; }
nav { position:sticky; top:0; z-index:2; background:#fff; border-bottom:1px solid var(--line); padding:8px 28px;
      display:flex; flex-wrap:wrap; gap:6px 16px; font-size:13px; }
nav a { color:var(--accent); text-decoration:none; }
main { padding:8px 28px 40px; max-width:1500px; }
section { background:#fff; border:1px solid var(--line); border-radius:8px; padding:14px 18px 18px; margin:16px 0; }
section h2 { margin:0 0 12px; font-size:18px; }
h3 { font-size:14px; margin:14px 0 6px; color:var(--muted); }
.cards { display:flex; flex-wrap:wrap; gap:10px; margin:6px 0 10px; }
.card { flex:1 1 150px; max-width:230px; border:1px solid var(--line); border-left:4px solid var(--accent); border-radius:6px;
        padding:8px 10px; background:#fbfcfd; }
.card-label { font-size:12px; color:var(--muted); }
.card-value { font-size:20px; font-weight:650; margin-top:2px; white-space:nowrap; }
.card-value .unit { font-size:14px; font-weight:500; color:var(--muted); }
figure.chart { margin:10px 0 16px; }
figure.chart figcaption { font-weight:600; margin-bottom:4px; }
figure.chart svg { display:block; width:100%; max-width:1100px; height:auto; }
.legend { display:flex; flex-wrap:wrap; gap:4px 14px; font-size:12px; color:var(--muted); margin-bottom:4px; }
.legend i { display:inline-block; width:11px; height:11px; border-radius:2px; margin-right:5px; vertical-align:-1px; }
.table-block { margin:12px 0; }
.table-tools { display:flex; align-items:center; gap:12px; margin-bottom:4px; flex-wrap:wrap; }
.table-caption { font-weight:600; flex:1 1 auto; }
.table-tools input { padding:4px 8px; border:1px solid var(--line); border-radius:4px; min-width:200px; }
.count { color:var(--muted); font-size:12px; }
.table-scroll { max-height:460px; overflow:auto; border:1px solid var(--line); border-radius:4px; }
table { border-collapse:collapse; font-size:12px; width:100%; }
th, td { padding:4px 8px; border-bottom:1px solid #eef0f3; white-space:nowrap; text-align:left; }
th { position:sticky; top:0; background:#eef2f7; cursor:pointer; user-select:none; }
th[aria-sort=ascending]::after { content:" ▲"; } th[aria-sort=descending]::after { content:" ▼"; }
td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; }
tbody tr:hover { background:#f3f7fc; }
.note { color:var(--muted); }
.warning { color:#8a4b00; background:#fff4e0; padding:8px; border-radius:4px; }
footer { color:var(--muted); font-size:12px; padding:0 28px 24px; }
@media print { nav { display:none; } .table-scroll { max-height:none; } section { break-inside:avoid; } }
"""

JS = r"""
(function () {
  "use strict";
  var decimal = document.body.getAttribute("data-decimal") || ",";
  function number(text) {
    var t = text.replace(/[\s\u00a0\u202f€%]/g, "");
    if (decimal !== ".") { t = t.split(decimal).join("."); }
    return /^[-+]?(\d+\.?\d*|\.\d+)$/.test(t) ? parseFloat(t) : null;
  }
  function setup(table) {
    var name = table.getAttribute("data-table");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows).filter(function (r) { return !r.classList.contains("empty-row"); });
    var input = document.querySelector('input[data-filter="' + name + '"]');
    var counter = document.querySelector('[data-count-for="' + name + '"]');
    function count() {
      var shown = rows.filter(function (r) { return !r.hidden; }).length;
      if (counter) { counter.textContent = shown === rows.length ? rows.length + " lignes" : shown + " / " + rows.length + " lignes"; }
    }
    var heads = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(heads, function (th, index) {
      th.tabIndex = 0;
      function sort() {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var keyed = rows.map(function (row, i) {
          var text = row.cells[index].textContent;
          return { row: row, n: number(text), t: text, i: i };
        });
        keyed.sort(function (a, b) {
          var c;
          if (a.n !== null && b.n !== null) { c = a.n - b.n; }
          else if (a.n !== null) { c = -1; } else if (b.n !== null) { c = 1; }
          else { c = a.t.localeCompare(b.t, "fr"); }
          if (!ascending) { c = -c; }
          return c !== 0 ? c : a.i - b.i;
        });
        keyed.forEach(function (k) { body.appendChild(k.row); });
      }
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (e) { if (e.key === "Enter") { sort(); } });
    });
    if (input) {
      input.addEventListener("input", function () {
        var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
        rows.forEach(function (row) {
          var text = row.textContent.toLowerCase();
          row.hidden = !words.every(function (w) { return text.indexOf(w) >= 0; });
        });
        count();
      });
    }
    count();
  }
  Array.prototype.forEach.call(document.querySelectorAll("table[data-table]"), setup);
  var charts = document.querySelectorAll("figure[data-chart]");
  var drawn = 0;
  Array.prototype.forEach.call(charts, function (figure) {
    var svg = figure.querySelector("svg");
    if (!svg) { return; }
    var box = svg.getBBox();
    var marks = svg.querySelectorAll("[data-value], text.empty").length;
    if (box.width > 0 && box.height > 0 && marks > 0) {
      figure.setAttribute("data-rendered", "true");
      drawn += 1;
    }
  });
  document.body.setAttribute("data-charts-drawn", drawn + "/" + charts.length);
  document.body.setAttribute("data-report-ready", "true");
})();
"""


def _page(report: _Report) -> str:
    plan = report.plan
    mode = plan["mode"]
    quarters = ", ".join(plan.get("quarters") or [])
    meta = [
        ("Mode", MODE_TITLES.get(mode, mode)),
        ("Exécution", plan.get("run_id", "")),
        ("Date de référence", plan.get("as_of", "")),
        ("Période d'analyse", f"du {plan.get('period_start', '')} au {plan.get('period_end', '')}"),
        ("Trimestres fiscaux", quarters),
        (
            "Dossier",
            plan.get("output_folder") or report.folder.name.removeprefix(".").removesuffix(".tmp"),
        ),
    ]
    nav = "".join(f'<a href="#{anchor}">{_esc(title)}</a>' for anchor, title, _ in report.sections)
    sections = "\n".join(
        f'<section id="{anchor}"><h2>{_esc(title)}</h2>\n{body}\n</section>'
        for anchor, title, body in report.sections
    )
    out = plan["output"]
    config = (
        f"séparateur « {out['csv_separator']} », marque décimale « {out['decimal_separator']} », prix et montants "
        f"à {out['decimal_places']} décimales, pourcentages (×100) à {out['percentage_format']} décimales, "
        "arrondis au plus proche (moitié vers l'extérieur)"
    )
    return f"""<!DOCTYPE html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>PT2QE — Rapport {_esc(MODE_TITLES.get(mode, mode))} — {_esc(plan.get("as_of", ""))}</title>
<style>{CSS}</style>
</head>
<body data-mode="{_esc(mode)}" data-decimal="{_esc(report.fmt.decimal)}">
<header>
<h1>PT2QE — Rapport d'exécution</h1>
<div class="meta">{"".join(f"<span><b>{_esc(k)} :</b> {_esc(v)}</span>" for k, v in meta)}</div>
</header>
<nav>{nav}</nav>
<main>
{sections}
</main>
<footer>Chiffres identiques aux fichiers CSV du même dossier : {_esc(config)}.
Cliquer un en-tête de colonne pour trier, saisir du texte pour filtrer. Page autonome : aucune connexion requise.</footer>
<script>{JS}</script>
</body>
</html>
"""
