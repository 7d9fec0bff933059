"""`export_summary.txt`: the run in plain words, every number read from the marts.

The counts come from the mart `run_reconciliation` (built by dbt), so the file reconciles
by construction: offers read = kept + filtered (by reason), kept = MASTER + NATIONAL +
NO_MATCH, recommended = MASTER + NATIONAL = rows of recommendations_detail.csv. The
function checks those identities again before writing and refuses to write a summary
that does not add up.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

LABELS = {
    "offres_lues": "Offres lues",
    "offres_conservees": "Offres conservées",
    "offres_filtrees": "Offres filtrées",
    "match_master": "Corridor MASTER",
    "match_national": "Corridor NATIONAL",
    "match_no_match": "Sans corridor (NO_MATCH)",
    "offres_recommandees": "Offres recommandées",
    "clients_uniques": "Clients uniques",
    "articles_uniques": "Articles uniques",
    "taux_type_client": "Taux d'enrichissement TYPE_CLIENT",
    "taux_type_restaurant": "Taux d'enrichissement TYPE_RESTAURANT",
    "taux_fg_hm": "Taux d'enrichissement FG_HM (historique 4Q)",
    "taux_match_master": "Taux de matching MASTER",
    "taux_match_national": "Taux de matching NATIONAL",
    "taux_no_match": "Taux sans corridor",
    "pct_hausse_moy": "Hausse moyenne",
    "pct_hausse_mediane": "Hausse médiane",
    "hausse_euros": "Impact CA (€)",
    "ca_4q": "CA 4 trimestres (€)",
    "pct_impact_ca": "Impact CA (%)",
    "nb_valide": "VALIDE",
    "nb_a_verifier": "A_VERIFIER (hausse > seuil)",
    "nb_anomalie": "ANOMALIE (baisse)",
}


class SummaryError(RuntimeError):
    pass


def _fmt(value: Decimal | None, unite: str, decimal_mark: str, places: int, pct_places: int) -> str:
    if value is None:
        return "-"
    if unite == "nombre":
        text = f"{int(value):,}".replace(",", " ")
    elif unite == "taux":
        text = f"{(Decimal(value) * 100).quantize(Decimal(1).scaleb(-pct_places), rounding=ROUND_HALF_UP):f} %"
    else:
        # half away from zero, like the CSV files (PostgreSQL's round on numeric)
        text = f"{Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP):,f}".replace(",", " ")
    return text.replace(".", decimal_mark)


def reconciliation(conn, schema: str = "marts") -> list[tuple[str, str, Decimal, str]]:
    from psycopg import sql

    return conn.execute(
        sql.SQL("select section, indicateur, valeur, unite from {}.run_reconciliation order by ordre").format(sql.Identifier(schema))
    ).fetchall()


def check_identities(values: dict[str, Decimal], exported_rows: int | None) -> None:
    filtered = sum(v for k, v in values.items() if k.startswith("filtre_"))
    checks = [
        ("offres_lues = offres_conservees + offres_filtrees", values["offres_lues"], values["offres_conservees"] + values["offres_filtrees"]),
        ("offres_filtrees = somme des filtres", values["offres_filtrees"], filtered),
        ("offres_conservees = MASTER + NATIONAL + NO_MATCH", values["offres_conservees"], values["match_master"] + values["match_national"] + values["match_no_match"]),
        ("offres_recommandees = MASTER + NATIONAL", values["offres_recommandees"], values["match_master"] + values["match_national"]),
    ]
    if exported_rows is not None:
        checks.append(("offres_recommandees = lignes exportées", values["offres_recommandees"], exported_rows))
    bad = [f"{name}: {left} ≠ {right}" for name, left, right in checks if left != right]
    if bad:
        raise SummaryError("export_summary.txt does not reconcile: " + "; ".join(bad))


def write_summary(conn, path: Path, plan: dict, exported_rows: int | None, files: dict[str, int], schema: str = "marts") -> None:
    out = plan["output"]
    rows = reconciliation(conn, schema)
    values = {ind: val for _s, ind, val, _u in rows}
    check_identities(values, exported_rows)
    mark, places, pct = out["decimal_separator"], out["decimal_places"], out["percentage_format"]
    lines = [
        "PT2QE — Résumé de l'export",
        "=" * 40,
        f"Mode                 : {plan['mode']}",
        f"Date de référence    : {plan['as_of']}",
        f"Période d'analyse    : du {plan['period_start']} au {plan['period_end']}",
        "Trimestres fiscaux   : " + ", ".join(f"{c} (du {s} au {e})" for c, s, e in plan["quarter_bounds"]),
        f"Source               : {plan['source_desc']}",
    ]
    section = None
    for sec, ind, val, unite in rows:
        if sec != section:
            section = sec
            lines += ["", sec]
        label = LABELS.get(ind) or ("Filtre " + ind.removeprefix("filtre_") if ind.startswith("filtre_") else ind)
        lines.append(f"  {label:<45} {_fmt(val, unite, mark, places, pct):>18}")
    lines += ["", "FICHIERS"]
    for name, n in files.items():
        lines.append(f"  {name:<45} {f'{n:,}'.replace(',', ' '):>18} lignes")
    text = "\n".join(lines) + "\n"
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(text.replace("\n", "\r\n").encode(out["csv_encoding"].replace("-sig", ""), errors="strict"))
    tmp.replace(path)
