"""A hand-made source world where every expected price was worked out by hand from
QUOTE_ENGINE_RULES.md (the arithmetic is in the comments), not produced by the code.

Reference date 2025-07-15. Fiscal quarters of 13 weeks from Monday 2024-01-01, so the
four complete quarters before as_of are 2024_Q03 … 2025_Q02: 2024-07-01 → 2025-06-29.

Corridor template (old bounds): PRB 20, B12 18, B23 16, B34 15, B45 14, B56 13, B6X 12,
PAS = pas. New bounds: NEW_PRB 22, NB12 19.8, NB23 17.6, NB34 16.5, NB45 15.4, NB56 14.3,
NB6X 13.2, NEW_PAS = new_pas.
Caps file: RCI PI GI 0.025/0.05/0.075, RSI HM 0.6/0.8/0.9, NATIONAL 0.03/0.06/0.09;
config defaults 0.05/0.15/0.20; basics cap 0.50.
"""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

AS_OF = "2025-07-15"

OLD = {"PRB_ACTIF": "20", "BORNE_PL1_PL2": "18", "BORNE_PL2_PL3": "16", "BORNE_PL3_PL4": "15",
       "BORNE_PL4_PL5": "14", "BORNE_PL5_PL6": "13", "BORNE_PL6_PLX": "12"}
NEW = {"NEW_PRB": "22", "NEW_BORNE_PL1_PL2": "19.8", "NEW_BORNE_PL2_PL3": "17.6", "NEW_BORNE_PL3_PL4": "16.5",
       "NEW_BORNE_PL4_PL5": "15.4", "NEW_BORNE_PL5_PL6": "14.3", "NEW_BORNE_PL6_PLX": "13.2"}

CAPPING_CSV = "TYPE_CLIENT;CAPPING_HIGH;CAPPING_MEDIUM;CAPPING_LOW\r\nRCI PI GI;0,025;0,05;0,075\r\nRSI HM;0,6;0,8;0,9\r\nNATIONAL;0,03;0,06;0,09\r\n"

# customers: id -> (ID_TC_CG, ID_TC_CIBLE, ID_SEGMENT, GEO, ID_KAM)
CUSTOMERS = {
    "C1": ("RCI", "PI", "S1", "NORD", None),      # RCI PI GI / TRADITIONNEL / NORD
    "C2": ("RSI", "HM", "S2", None, " "),         # RSI HM / RESTAURATION_RAPIDE / GEO NULL, blank KAM
    "C3": ("AUTRES", "PI", "S1", "NORD", None),   # filtered: AUTRES
    "C4": ("RCI", "PI", "S1", "NORD", "NAT01"),   # filtered: UNIVERS ZOOM2
    "C5": ("RSC", "HM", "S1", "SUD", "KAM7"),     # RSC HM: not in the caps file -> defaults
}

# articles: id -> (ID_GMM, LC_HIC_SYSCO_N1, LC_HIC_SYSCO_N2, LC_ATTRIBUT)
ARTICLES = {f"A{i:02d}": (None, "EPICERIE", "Sec", None) for i in range(1, 23)}
ARTICLES["A17"] = ("G1", "EPICERIE", "Sec", "Basiques")
ARTICLES["A90"] = ("PSN", "EPICERIE", "Sec", None)      # filtered: PSN
ARTICLES["A91"] = (None, "EPICERIE", "Divers", None)    # filtered: Divers
ARTICLES["A92"] = (None, "MAREE", "Frais", None)        # filtered: UNIVERS ZOOM3

# corridors: (CUBE_TYPE, ID_ART, TYPE_CLIENT, TYPE_RESTAURANT, GEO, pas, new_pas, sensitivity, overrides)
M = ("MASTER", "RCI PI GI", "TRADITIONNEL", "NORD")
CORRIDORS = [
    ("MASTER", "A01", "RCI PI GI", "TRADITIONNEL", "NORD", "10", "11", "MEDIUM", {}),
    ("MASTER", "A02", *M[1:], "10", "10", "MEDIUM", {}),
    ("MASTER", "A03", *M[1:], "10", "9", "MEDIUM", {}),
    ("MASTER", "A04", *M[1:], "10", "11", "MEDIUM", {}),
    ("MASTER", "A05", *M[1:], "10", "12", "MEDIUM", {"NEW_PRB": "25", "NEW_BORNE_PL1_PL2": "21", "NEW_BORNE_PL2_PL3": "19.5",
                                                      "NEW_BORNE_PL3_PL4": "17", "NEW_BORNE_PL4_PL5": "16",
                                                      "NEW_BORNE_PL5_PL6": "15", "NEW_BORNE_PL6_PLX": "14"}),
    ("MASTER", "A06", *M[1:], "10", "12", "MEDIUM", {"NEW_PRB": "13.1", "NEW_BORNE_PL1_PL2": "13.05", "NEW_BORNE_PL2_PL3": "13.0",
                                                      "NEW_BORNE_PL3_PL4": "12.9", "NEW_BORNE_PL4_PL5": "12.8",
                                                      "NEW_BORNE_PL5_PL6": "12.7", "NEW_BORNE_PL6_PLX": "12.6"}),
    ("MASTER", "A07", *M[1:], "10", "10", "HIGH", {}),
    ("MASTER", "A08", *M[1:], "10", "10", "LOW", {}),
    ("MASTER", "A09", *M[1:], "10", "10", None, {}),
    ("MASTER", "A10", *M[1:], "10", "10", "MEDIUM", {}),
    ("MASTER", "A11", *M[1:], "10", "10", "MEDIUM", {}),
    ("MASTER", "A12", *M[1:], "10", "10", "MEDIUM", {}),
    ("MASTER", "A13", *M[1:], "10", "10", "MEDIUM", {}),
    ("MASTER", "A14", *M[1:], "10", "10", "MEDIUM", {}),
    ("MASTER", "A15", *M[1:], "10", "10", "MEDIUM", {}),
    ("MASTER", "A16", *M[1:], "10", "10", "MEDIUM", {}),
    ("MASTER", "A17", "RSI HM", "RESTAURATION_RAPIDE", None, "10", "10", "MEDIUM", {}),
    ("NATIONAL", "A18", "NATIONAL", "NATIONAL", None, "10", "10", "MEDIUM", {}),
    ("MASTER", "A20", *M[1:], "10", "10", "MEDIUM", {}),        # not matched: C1 is 'RCI HM' on A20
    ("NATIONAL", "A20", "NATIONAL", "NATIONAL", None, "10", "11", "MEDIUM", {}),
    ("MASTER", "A21", "RSC HM", "TRADITIONNEL", "SUD", "10", "10", "MEDIUM", {}),
    ("MASTER", "A22", *M[1:], "10", "11", "MEDIUM", {}),
    # a MASTER cube with GEO NULL must not catch C1 (GEO NORD) on A18
    ("MASTER", "A18", "RCI PI GI", "TRADITIONNEL", None, "10", "10", "HIGH", {}),
]

# offers: ID_CND -> (ID_CLN, ID_ART, P, ID_TYP_CND, ID_SEQ, FG_CND_VLD, DT_FIN, tariff origin)
OK = ("ZFAP", "A305", "X", "2026-12-31", None)
OFFERS = {
    "O01": ("C1", "A01", "15.5", *OK),
    "O02": ("C1", "A02", "15.5", *OK),
    "O03": ("C1", "A03", "15.5", *OK),
    "O04": ("C1", "A04", "19", *OK),
    "O05": ("C1", "A05", "18.5", *OK),
    "O06": ("C1", "A06", "11", *OK),
    "O07": ("C1", "A07", "15.5", *OK),
    "O08": ("C1", "A08", "15.5", *OK),
    "O09": ("C1", "A09", "15.5", *OK),
    "O10": ("C1", "A10", "20.5", *OK),
    "O11": ("C1", "A11", "18", "ZFSP", "A565", "X", "2026-12-31", "FERME1"),
    "O12": ("C1", "A12", "14.5", "ZIAP", "A305", "X", "2026-12-31", None),
    "O13": ("C1", "A13", "13.5", "ZISP", "A305", "X", "2026-12-31", None),
    "O14": ("C1", "A14", "11", *OK),
    "O15": ("C1", "A15", "9", *OK),
    "O16": ("C1", "A16", "17", *OK),
    "O17": ("C2", "A17", "5", *OK),
    "O18": ("C1", "A18", "15.5", *OK),
    "O19": ("C1", "A19", "15.5", *OK),      # no corridor at all: NO_MATCH
    "O20": ("C1", "A20", "15.5", *OK),
    "O21": ("C5", "A21", "15.5", *OK),
    "O22": ("C1", "A22", "23", *OK),
    # each filter removes one offer
    "F01": ("C1", "A01", "15.5", "ZFAP", "A305", None, "2026-12-31", None),   # CONDITION_INVALIDE
    "F02": ("C1", "A02", "15.5", "ZFAP", "A305", "X", AS_OF, None),           # CONDITION_EXPIREE (DT_FIN = as_of)
    "F03": ("C1", "A03", "15.5", "ZXXX", "A305", "X", "2026-12-31", None),    # TYPE_CONDITION
    "F04": ("C1", "A04", "15.5", "ZFAP", "A999", "X", "2026-12-31", None),    # SEQUENCE
    "F05": ("C3", "A01", "15.5", *OK),                                        # CLIENT_AUTRES
    "F06": ("C1", "A90", "15.5", *OK),                                        # GAMME_PSN
    "F07": ("C1", "A91", "15.5", *OK),                                        # HIERARCHIE_N2
    "F08": ("C1", "A05", "15.5", "ZFAP", "A305", "X", "2026-12-31", "PROMO1"),  # PRIX_PROMO
    "F09": ("C1", "A92", "15.5", *OK),                                        # UNIVERS (ZOOM3)
    "F10": ("C4", "A01", "15.5", *OK),                                        # UNIVERS (ZOOM2)
}

# invoice lines: (ID_FACTURE, NO_LIGNE, ID_CLN, ID_ART, DT_FACTURE, QT_UF, MT_CA, origin, FG_HM)
INVOICES = [
    # O01: two lines on the period bounds count (15 UF, 227.5 €); outside and promo lines do not
    ("F100", 1, "C1", "A01", "2024-07-01", "10", "150", "FERME1", None),
    ("F101", 1, "C1", "A01", "2025-06-29", "5", "77.5", "INDEX1", None),
    ("F099", 1, "C1", "A01", "2024-06-30", "100", "1000", None, "X"),
    ("F102", 1, "C1", "A01", "2025-06-30", "100", "1000", None, "X"),
    ("F103", 1, "C1", "A01", "2025-01-15", "7", "70", "PROMO1", "X"),
    # A20: the latest line (same day: highest ID_FACTURE wins) says hors mercuriale -> FG_HM 1
    ("F200", 1, "C1", "A20", "2025-05-01", "2", "30", None, None),
    ("F202", 1, "C1", "A20", "2025-06-01", "3", "45", None, "X"),
    ("F201", 9, "C1", "A20", "2025-06-01", "4", "60", None, None),
    # A02: same invoice, two lines: highest NO_LIGNE is the latest (FG_HM blank -> 0)
    ("F300", 1, "C1", "A02", "2025-03-03", "1", "15", None, "X"),
    ("F300", 2, "C1", "A02", "2025-03-03", "6", "90", None, None),
]

# Expected, per recommended offer, as written in recommendations_detail.csv (3 decimals,
# percentages ×100 to 2 decimals, ',' decimal mark). Worked by hand:
EXPECTED = {
    # P 15.5 in new PL4 (>15.4): base NB23 17.6; MEDIUM 5% cap 16.275; RECO2 = 15.5*1.1 = 17.05 wins
    "O01": dict(MATCH_TYPE="MASTER", RECO1_BASE="17,600", RECO1_AVEC_CAPPING="16,275", RECO2="17,050",
                DECISION_PATH="OPTIMISATION_STANDARD", RECO_SELECTIONNEE="RECO2", CAPPING_APPLIED="NONE",
                PRIX_RECOMMANDE="17,050", PCT_HAUSSE_FINALE="10,00", CA_4Q="227,500", VOL_UF_4Q="15,000",
                POSITION_TARIF_ACTUEL_DANS_ANCIENNES_BORNES="PL3", PALIER_TARIF_ACTUEL_VS_NOUVELLES_BORNES="PL4",
                POSITION_NOUVEAU_PRIX_DANS_NOUVELLES_BORNES="PL3"),
    # RECO2 = P (NEW_PAS = PAS): RECO1 16.275 (capped) wins
    "O02": dict(RECO1_BASE="17,600", RECO1_APRES_CAPPING_SENSIBILITE="16,275", RECO_SELECTIONNEE="RECO1",
                CAPPING_APPLIED="SENSIBILITE", PRIX_RECOMMANDE="16,275", PCT_HAUSSE_FINALE="5,00",
                CA_4Q="105,000", VOL_UF_4Q="7,000"),
    # NEW_PAS 9 < PAS 10: price frozen
    "O03": dict(DECISION_PATH="PAS_BAISSE_GEL_PRIX", RECO_SELECTIONNEE="GEL_PRIX_ACTUEL", RECO_TYPE="GEL_PRIX",
                CAPPING_APPLIED="GEL_PAS", PRIX_AVANT_CAPPING_PRB="15,500", PRIX_RECOMMANDE="15,500", PCT_HAUSSE_FINALE="0,00"),
    # 18 < 19 <= 20: premium, max(19, NB23 17.6) = 19
    "O04": dict(DECISION_PATH="PL1_CONSERVATION_PREMIUM", RECO_SELECTIONNEE="PRIX_ACTUEL", RECO_TYPE="CONSERVATION_PREMIUM",
                CAPPING_APPLIED="NONE", PRIX_RECOMMANDE="19,000", PCT_HAUSSE_FINALE="0,00",
                POSITION_TARIF_ACTUEL_DANS_ANCIENNES_BORNES="PL1"),
    # premium with floor: NB23 19.5 > 18.5 -> 19.5; +1/18.5 = 5.405%
    "O05": dict(DECISION_PATH="PL1_CONSERVATION_PREMIUM", RECO_SELECTIONNEE="PLANCHER_PL2_PL3",
                CAPPING_APPLIED="PLANCHER_PL2_PL3", PRIX_RECOMMANDE="19,500", PCT_HAUSSE_FINALE="5,41"),
    # default rule: NEW_PAS 12; cap 11.55; RECO2 = 11*1.2 = 13.2 > NEW_PRB 13.1 -> 13.1 (+19.09%)
    "O06": dict(RECO1_BASE="12,000", RECO1_AVEC_CAPPING="11,550", RECO2="13,200", PRIX_AVANT_CAPPING_PRB="13,200",
                RECO_SELECTIONNEE="RECO2", CAPPING_APPLIED="PRB_FINAL", PRIX_RECOMMANDE="13,100", PCT_HAUSSE_FINALE="19,09",
                POSITION_TARIF_ACTUEL_DANS_ANCIENNES_BORNES="PLX", PALIER_TARIF_ACTUEL_VS_NOUVELLES_BORNES="BELOW_PAS",
                POSITION_NOUVEAU_PRIX_DANS_NOUVELLES_BORNES="PL1"),
    # HIGH 2.5%: 15.8875 -> 15.888 (half up)
    "O07": dict(RECO1_AVEC_CAPPING="15,888", CAPPING_APPLIED="SENSIBILITE", PRIX_RECOMMANDE="15,888", PCT_HAUSSE_FINALE="2,50"),
    # LOW 7.5%: 16.6625 -> 16.663
    "O08": dict(PRIX_RECOMMANDE="16,663", PCT_HAUSSE_FINALE="7,50", CAPPING_APPLIED="SENSIBILITE"),
    # NULL sensitivity uses MEDIUM
    "O09": dict(PRIX_RECOMMANDE="16,275", PCT_HAUSSE_FINALE="5,00"),
    # 20.5 > NB12: RECO1 = P, uncapped; RECO2 = P: tie goes to RECO1
    "O10": dict(RECO1_BASE="20,500", RECO1_AVEC_CAPPING="20,500", RECO2="20,500", RECO_SELECTIONNEE="RECO1",
                CAPPING_APPLIED="NONE", PRIX_RECOMMANDE="20,500", PCT_HAUSSE_FINALE="0,00",
                POSITION_TARIF_ACTUEL_DANS_ANCIENNES_BORNES="ABOVE_PRB"),
    # rule 2: 18 > NB23 -> NB12 19.8; cap 18.9
    "O11": dict(RECO1_BASE="19,800", PRIX_RECOMMANDE="18,900", PCT_HAUSSE_FINALE="5,00"),
    # rule 5: 14.5 > NB56 -> NB34 16.5; cap 15.225
    "O12": dict(RECO1_BASE="16,500", PRIX_RECOMMANDE="15,225"),
    # rule 6: 13.5 > NB6X -> NB56 14.3; cap 14.175
    "O13": dict(RECO1_BASE="14,300", PRIX_RECOMMANDE="14,175"),
    # rule 7: 11 >= NEW_PAS 10 -> NB6X 13.2; cap 11.55
    "O14": dict(RECO1_BASE="13,200", PRIX_RECOMMANDE="11,550"),
    # rule 8 (default): 9 < NEW_PAS -> 10; cap 9.45
    "O15": dict(RECO1_BASE="10,000", PRIX_RECOMMANDE="9,450", PALIER_TARIF_ACTUEL_VS_NOUVELLES_BORNES="BELOW_PAS"),
    # rule 3: 17 > NB34 -> NB12 19.8; cap 17.85
    "O16": dict(RECO1_BASE="19,800", PRIX_RECOMMANDE="17,850"),
    # basics: NEW_PAS 10; MEDIUM 80% -> 9; basics 50% -> 7.5 (+50%); MASTER matched with GEO NULL
    "O17": dict(MATCH_TYPE="MASTER", RECO1_BASE="10,000", RECO1_APRES_CAPPING_SENSIBILITE="9,000",
                RECO1_AVEC_CAPPING="7,500", CAPPING_APPLIED="BASIQUES_50PCT", PRIX_RECOMMANDE="7,500",
                PCT_HAUSSE_FINALE="50,00", ID_KAM="NO_KAM", TYPE_CLIENT="RSI HM", GEO=""),
    # NATIONAL only (the GEO-NULL MASTER cube does not match NORD): NATIONAL caps 6% -> 16.43
    "O18": dict(MATCH_TYPE="NATIONAL", PRIX_RECOMMANDE="16,430", CAPPING_APPLIED="SENSIBILITE"),
    # latest line FG_HM X -> 'RCI HM' -> NATIONAL cube (new_pas 11): RECO2 17.05 wins
    "O20": dict(MATCH_TYPE="NATIONAL", TYPE_CLIENT="RCI HM", PRIX_RECOMMANDE="17,050", RECO_SELECTIONNEE="RECO2",
                CA_4Q="135,000", VOL_UF_4Q="9,000"),
    # RSC HM not in caps file: default MEDIUM 15% -> 17.825 > base 17.6: uncapped RECO1 17.6 (+13.55%)
    "O21": dict(RECO1_AVEC_CAPPING="17,600", RECO_SELECTIONNEE="RECO1", CAPPING_APPLIED="NONE",
                PRIX_RECOMMANDE="17,600", PCT_HAUSSE_FINALE="13,55", ID_KAM="KAM7"),
    # 23 > PRB: RECO1 = 23, RECO2 = 25.3 -> NEW_PRB 22: a decrease (-4.35%)
    "O22": dict(RECO_SELECTIONNEE="RECO2", CAPPING_APPLIED="PRB_FINAL", PRIX_RECOMMANDE="22,000",
                PCT_HAUSSE_FINALE="-4,35", POSITION_TARIF_ACTUEL_DANS_ANCIENNES_BORNES="ABOVE_PRB"),
}

FILTERED = ["F01", "F02", "F03", "F04", "F05", "F06", "F07", "F08", "F09", "F10"]
NO_MATCH = ["O19"]


def _write(folder: Path, name: str, header: list[str], rows: list[tuple]) -> None:
    with open(folder / f"{name}.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for r in rows:
            w.writerow(["" if v is None else v for v in r])


def write_world(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    weeks = []
    day = date(2024, 1, 1)
    for year in (2024, 2025):
        for q in range(1, 5):
            for _ in range(13):
                weeks.append((day.isoformat(), (day + timedelta(days=6)).isoformat(), f"{year}_Q{q:02d}", str(year), None))
                day += timedelta(days=7)
    _write(folder, "SYS_MD_CALENDRIER_SYSCO", ["ID_SEM", "DT_FIN_SEM", "ID_TRIMESTRE_FISCAL", "ID_ANNEE_FISCALE", "FG_SEM_EN_COURS"], weeks)
    _write(folder, "SYS_MD_CLIENT", ["ID_CLN", "LC_CLN", "ID_TC_CG", "ID_TC_CIBLE", "ID_SEGMENT", "GEO", "ID_KAM"],
           [(c, f"Client {c}", *v) for c, v in CUSTOMERS.items()])
    _write(folder, "SYS_MD_ARTICLE", ["ID_ART", "LC_ART", "ID_GMM", "LC_HIC_SYSCO_N1", "LC_HIC_SYSCO_N2", "LC_ATTRIBUT", "ID_GTIN13", "FAMILLE_CONDITIONNEMENT"],
           [(a, f"Article {a}", *v, None, None) for a, v in ARTICLES.items()])
    _write(folder, "SYS_MD_CONDITION", ["ID_CND", "ID_CLN", "ID_ART", "ID_TYP_CND", "ID_SEQ", "FG_CND_VLD", "DT_DEB", "DT_FIN"],
           [(k, c, a, t, s, v, "2024-01-01", fin) for k, (c, a, _p, t, s, v, fin, _o) in OFFERS.items()])
    _write(folder, "SYS_TARIF_SIMULATION", ["ID_CND", "PRIX_TARIF_ACTUEL", "ID_ORIGINE_PRIX"],
           [(k, p, o) for k, (_c, _a, p, _t, _s, _v, _f, o) in OFFERS.items()])
    _write(folder, "SYS_MD_ORIGINE_PRIX", ["ID_ORIGINE_PRIX", "LC_ORIGINE_PRIX", "TYPE_PRIX", "FG_PROMO"],
           [("FERME1", "Prix ferme", "FERME", None), ("INDEX1", "Prix indexé", "INDEXE", None), ("PROMO1", "Promotion", "FERME", "X")])
    _write(folder, "SYS_FACTURE_LIGNE", ["ID_FACTURE", "NO_LIGNE", "ID_CDE", "ID_CLN", "ID_ART", "DT_FACTURE", "QT_UF", "QT_KG", "MT_CA", "ID_ORIGINE_PRIX", "FG_HM", "ID_FOURNISSEUR"],
           [(f, n, None, c, a, d, q, None, ca, o, hm, "SUP1") for f, n, c, a, d, q, ca, o, hm in INVOICES])
    _write(folder, "PT0CE_TYPE_CLIENT_MAPPING", ["ID_TC_CG", "ID_TC_CIBLE", "FG_HM", "TYPE_CLIENT"],
           [("RCI", "PI", "0", "RCI PI GI"), ("RCI", "PI", "1", "RCI HM"), ("RSI", "HM", "0", "RSI HM"),
            ("RSI", "HM", "1", "RSI HM"), ("RSC", "HM", "0", "RSC HM"), ("RSC", "HM", "1", "RSC HM")])
    _write(folder, "PT0CE_TYPE_RESTAURANT_MAPPING", ["ID_SEGMENT", "TYPE_RESTAURANT"],
           [("S1", "TRADITIONNEL"), ("S2", "RESTAURATION_RAPIDE")])
    header = ["CUBE_TYPE", "ID_ART", "TYPE_CLIENT", "TYPE_RESTAURANT", "GEO", "PAS_ACTIF", *OLD.keys(), "NEW_PAS", *NEW.keys(),
              "PRICE_SENSITIVITY", "ECART_TYPE", "PCT_HAUSSE_PAS"]
    rows = []
    for cube, art, tc, tr, geo, pas, new_pas, sens, over in CORRIDORS:
        new = {**NEW, **over}
        rows.append((cube, art, tc, tr, geo, pas, *OLD.values(), new_pas, *new.values(), sens, None, None))
    _write(folder, "PT1CE_OPTIMAL_ZOOM1", header, rows)
    return folder


def write_capping(path: Path) -> Path:
    path.write_bytes(CAPPING_CSV.encode("cp1252"))
    return path
