"""export_summary.txt refuses to write numbers that do not add up."""

from decimal import Decimal as D

import re

import pytest

from pt2qe.summary import SummaryError, check_identities

GOOD = {
    "offres_lues": D(32), "offres_conservees": D(22), "offres_filtrees": D(10),
    **{f"filtre_{r}": D(1) for r in ("A", "B", "C", "D", "E", "F", "G", "H")}, "filtre_UNIVERS": D(2),
    "match_master": D(19), "match_national": D(2), "match_no_match": D(1), "offres_recommandees": D(21),
}


def test_reconciled_counts_pass():
    check_identities(GOOD, exported_rows=21)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"offres_filtrees": D(9)}, "offres_lues = offres_conservees + offres_filtrees: 32 ≠ 31"),
        ({"filtre_UNIVERS": D(3)}, "offres_filtrees = somme des filtres: 10 ≠ 11"),
        ({"match_no_match": D(2)}, "offres_conservees = MASTER + NATIONAL + NO_MATCH: 22 ≠ 23"),
        ({"offres_recommandees": D(20)}, "offres_recommandees = MASTER + NATIONAL: 20 ≠ 21"),
    ],
)
def test_each_identity_is_checked(change, message):
    with pytest.raises(SummaryError, match=re.escape(message)):
        check_identities({**GOOD, **change}, exported_rows=None)


def test_exported_rows_must_equal_recommended():
    with pytest.raises(SummaryError, match=re.escape("offres_recommandees = lignes exportées: 21 ≠ 20")):
        check_identities(GOOD, exported_rows=20)


def test_amounts_and_rates_round_half_away_from_zero_like_the_csv_files():
    from pt2qe.summary import _fmt

    assert _fmt(D("2.0005"), "euros", ",", 3, 2) == "2,001"
    assert _fmt(D("-2.0005"), "euros", ",", 3, 2) == "-2,001"
    assert _fmt(D("0.123125"), "taux", ",", 3, 4) == "12,3125 %"
    assert _fmt(D("0.0012345"), "taux", ",", 3, 2) == "0,12 %"
    assert _fmt(D("1234567"), "nombre", ",", 3, 2) == "1 234 567"
