"""The pricing team's CSV files: what French Excel writes is read; everything else is
refused with the file, the line, the column and what was expected.

Fixture files are written byte by byte so the encodings are explicit.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from pt2qe.config import CsvDialect
from pt2qe.frenchcsv import (
    CappingRow,
    CorrectionRow,
    InputFileError,
    check_known_cubes,
    read_capping_corrections,
    read_capping_type_client,
    read_table,
)

EXCEL = CsvDialect(separator=";", decimal=",", encoding="cp1252")  # the shipped default
UTF8_DOT = CsvDialect(separator=";", decimal=".", encoding="utf-8-sig")

CAPPING_HEADER = b"TYPE_CLIENT;CAPPING_HIGH;CAPPING_MEDIUM;CAPPING_LOW\r\n"
CORRECTIONS_HEADER = (
    b"UNIVERS;TYPE_CLIENT;TYPE_RESTAURANT;GEO;CAPPING_HIGH;CAPPING_MEDIUM;CAPPING_LOW\r\n"
)
CAP_EXPECTED = "a number between 0 and 1 written with ',' as decimal mark (like 0,05)"


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def capping_error(tmp_path: Path, data: bytes, dialect=EXCEL) -> InputFileError:
    path = write(tmp_path, "capping_type_client.csv", data)
    with pytest.raises(InputFileError) as info:
        read_capping_type_client(path, dialect)
    assert info.value.file == str(path)
    assert str(info.value).startswith(str(path))
    return info.value


def corrections_error(tmp_path: Path, data: bytes, dialect=EXCEL) -> InputFileError:
    path = write(tmp_path, "capping_cubes_corrections.csv", data)
    with pytest.raises(InputFileError) as info:
        read_capping_corrections(path, dialect)
    assert info.value.file == str(path)
    return info.value


# --- accepted files ---------------------------------------------------------------------


def test_seed_capping_file_is_read(tmp_path):
    data = (
        CAPPING_HEADER
        + b"RCI PI GI;0,025;0,05;0,075\r\n"
        + b"RSI HM;0,025;0,05;0,075\r\n"
        + b"NATIONAL;0,03;0,06;0,09\r\n"
    )
    rows = read_capping_type_client(write(tmp_path, "c.csv", data), EXCEL)
    assert rows == [
        CappingRow(2, "RCI PI GI", Decimal("0.025"), Decimal("0.05"), Decimal("0.075")),
        CappingRow(3, "RSI HM", Decimal("0.025"), Decimal("0.05"), Decimal("0.075")),
        CappingRow(4, "NATIONAL", Decimal("0.03"), Decimal("0.06"), Decimal("0.09")),
    ]


def test_cp1252_accents_survive(tmp_path):
    # 0xE9 is 'é' in cp1252; 0x80 is '€'.
    data = CAPPING_HEADER + b"Caf\xe9s \x80;0,1;0,2;0,3\r\n"
    rows = read_capping_type_client(write(tmp_path, "c.csv", data), EXCEL)
    assert rows[0].type_client == "Cafés €"


def test_utf8_accents_survive_when_utf8_is_configured(tmp_path):
    data = CAPPING_HEADER + b"Caf\xc3\xa9s;0.1;0.2;0.3\r\n"
    rows = read_capping_type_client(write(tmp_path, "c.csv", data), UTF8_DOT)
    assert rows[0].type_client == "Cafés"
    assert rows[0].capping_high == Decimal("0.1")


def test_trailing_empty_lines_and_separator_only_lines_are_ignored(tmp_path):
    data = CAPPING_HEADER + b"RSI HM;0,025;0,05;0,075\r\n;;;\r\n\r\n ; ; ; \r\n\r\n"
    rows = read_capping_type_client(write(tmp_path, "c.csv", data), EXCEL)
    assert [(r.line, r.type_client) for r in rows] == [(2, "RSI HM")]


def test_stray_bom_is_accepted_in_cp1252(tmp_path):
    data = b"\xef\xbb\xbf" + CAPPING_HEADER + b"Caf\xe9s;0,1;0,2;0,3\r\n"
    rows = read_capping_type_client(write(tmp_path, "c.csv", data), EXCEL)
    assert rows == [CappingRow(2, "Cafés", Decimal("0.1"), Decimal("0.2"), Decimal("0.3"))]


def test_stray_bom_is_accepted_in_utf8(tmp_path):
    data = b"\xef\xbb\xbf" + CAPPING_HEADER + b"X;0.1;0.2;0.3\r\n"
    dialect = CsvDialect(";", ".", "utf-8")
    assert read_capping_type_client(write(tmp_path, "c.csv", data), dialect)[0].type_client == "X"


def test_values_and_header_names_are_stripped(tmp_path):
    data = b" type_client ; CAPPING_HIGH;CAPPING_MEDIUM ;CAPPING_LOW\n  RSI HM  ; 0,1 ;0,2;0,3 \n"
    rows = read_capping_type_client(write(tmp_path, "c.csv", data), EXCEL)
    assert rows == [CappingRow(2, "RSI HM", Decimal("0.1"), Decimal("0.2"), Decimal("0.3"))]


def test_caps_zero_and_one_are_within_bounds(tmp_path):
    data = CAPPING_HEADER + b"X;0;1;1,000\r\n"
    row = read_capping_type_client(write(tmp_path, "c.csv", data), EXCEL)[0]
    assert (row.capping_high, row.capping_medium, row.capping_low) == (0, 1, 1)


def test_values_that_look_like_formulas_are_plain_text(tmp_path):
    data = CAPPING_HEADER + b"=cmd|' /C calc'!A0;0,1;0,2;0,3\r\n"
    rows = read_capping_type_client(write(tmp_path, "c.csv", data), EXCEL)
    assert rows[0].type_client == "=cmd|' /C calc'!A0"


def test_seed_corrections_file_is_read_with_null_geo(tmp_path):
    data = (
        CORRECTIONS_HEADER
        + b"ZOOM1;RCI PI GI;TRADITIONNEL;NORD;0,030;0,060;0,090\r\n"
        + b"ZOOM1;RSI HM;RESTAURATION_RAPIDE;SUD;0,020;0,040;0,060\r\n"
        + b"ZOOM1;NATIONAL;NATIONAL;;0,01;0,02;0,03\r\n"
    )
    rows = read_capping_corrections(write(tmp_path, "k.csv", data), EXCEL)
    assert rows == [
        CorrectionRow(2, "ZOOM1", "RCI PI GI", "TRADITIONNEL", "NORD",
                      Decimal("0.030"), Decimal("0.060"), Decimal("0.090")),
        CorrectionRow(3, "ZOOM1", "RSI HM", "RESTAURATION_RAPIDE", "SUD",
                      Decimal("0.020"), Decimal("0.040"), Decimal("0.060")),
        CorrectionRow(4, "ZOOM1", "NATIONAL", "NATIONAL", None,
                      Decimal("0.01"), Decimal("0.02"), Decimal("0.03")),
    ]  # fmt: skip
    assert rows[2].cube == ("ZOOM1", "NATIONAL", "NATIONAL", None)


def test_generated_cube_file_is_accepted_as_corrections(tmp_path):
    # capping_cubes_generated.csv keeps its informative columns; they are ignored.
    data = (
        b"UNIVERS;TYPE_CLIENT;TYPE_RESTAURANT;GEO;CAPPING_HIGH;CAPPING_MEDIUM;CAPPING_LOW;"
        b"CUBE_TYPE;CAPPING_SOURCE;NB_OFFRES\r\n"
        b"ZOOM1;RSI HM;Caf\xe9;SUD;0,02;0,04;0,06;MASTER;TYPE_CLIENT_FILE;1234\r\n"
    )
    rows = read_capping_corrections(write(tmp_path, "k.csv", data), EXCEL)
    assert rows == [
        CorrectionRow(2, "ZOOM1", "RSI HM", "Café", "SUD",
                      Decimal("0.02"), Decimal("0.04"), Decimal("0.06")),
    ]  # fmt: skip


def test_dot_decimal_dialect_reads_dots(tmp_path):
    data = CORRECTIONS_HEADER + b"ZOOM1;RSI HM;TRAD;SUD;0.02;.04;0.060\r\n"
    row = read_capping_corrections(write(tmp_path, "k.csv", data), UTF8_DOT)[0]
    assert (row.capping_high, row.capping_medium, row.capping_low) == (
        Decimal("0.02"), Decimal("0.04"), Decimal("0.060"),
    )  # fmt: skip


def test_comma_separator_dialect(tmp_path):
    data = b'TYPE_CLIENT,CAPPING_HIGH,CAPPING_MEDIUM,CAPPING_LOW\n"RCI, PI",0.1,0.2,0.3\n'
    rows = read_capping_type_client(write(tmp_path, "c.csv", data), CsvDialect(",", ".", "utf-8"))
    assert rows == [CappingRow(2, "RCI, PI", Decimal("0.1"), Decimal("0.2"), Decimal("0.3"))]


# --- refused files ----------------------------------------------------------------------


def test_error_is_a_value_error():
    assert issubclass(InputFileError, ValueError)


def test_missing_file(tmp_path):
    path = tmp_path / "capping_type_client.csv"
    with pytest.raises(InputFileError) as info:
        read_capping_type_client(path, EXCEL)
    assert str(info.value) == f"{path}: expected an existing CSV file, found no such file"
    assert (info.value.line, info.value.column) == (None, None)


def test_empty_file(tmp_path):
    error = capping_error(tmp_path, b"")
    assert error.line == 1
    assert error.found == "an empty file"
    assert error.expected == "a header line 'TYPE_CLIENT;CAPPING_HIGH;CAPPING_MEDIUM;CAPPING_LOW'"


def test_file_of_blank_lines_is_empty(tmp_path):
    error = corrections_error(tmp_path, b"\r\n;;;;;;\r\n")
    assert error.found == "an empty file"


def test_bom_only_file_is_empty(tmp_path):
    assert capping_error(tmp_path, b"\xef\xbb\xbf").found == "an empty file"


def test_missing_column(tmp_path):
    data = b"TYPE_CLIENT;CAPPING_HIGH;CAPPING_LOW\r\nX;0,1;0,3\r\n"
    error = capping_error(tmp_path, data)
    assert (error.line, error.column) == (1, "CAPPING_MEDIUM")
    assert error.expected == "the columns TYPE_CLIENT, CAPPING_HIGH, CAPPING_MEDIUM, CAPPING_LOW"
    assert error.found.startswith("a header without CAPPING_MEDIUM")
    assert str(error) == (
        f"{error.file}, line 1, column CAPPING_MEDIUM: expected the columns TYPE_CLIENT, "
        "CAPPING_HIGH, CAPPING_MEDIUM, CAPPING_LOW, found a header without CAPPING_MEDIUM: "
        "'TYPE_CLIENT;CAPPING_HIGH;CAPPING_LOW'"
    )


def test_missing_corrections_columns_are_all_listed(tmp_path):
    error = corrections_error(tmp_path, b"UNIVERS;TYPE_CLIENT;CAPPING_HIGH\r\nZOOM1;X;0,1\r\n")
    assert error.column == "TYPE_RESTAURANT, GEO, CAPPING_MEDIUM, CAPPING_LOW"


def test_unknown_column_in_capping_file(tmp_path):
    data = CAPPING_HEADER.rstrip() + b";COMMENTAIRE\r\nX;0,1;0,2;0,3;hello\r\n"
    error = capping_error(tmp_path, data)
    assert (error.line, error.column) == (1, "COMMENTAIRE")
    assert "the unexpected column(s) COMMENTAIRE" in error.found


def test_misspelt_column_is_both_missing_and_unexpected(tmp_path):
    data = b"TYPE_CLIENT;CAPING_HIGH;CAPPING_MEDIUM;CAPPING_LOW\r\nX;0,1;0,2;0,3\r\n"
    error = capping_error(tmp_path, data)
    assert error.column == "CAPPING_HIGH, CAPING_HIGH"
    assert "without CAPPING_HIGH and with the unexpected column(s) CAPING_HIGH" in error.found


def test_informative_columns_are_refused_in_capping_file(tmp_path):
    data = CAPPING_HEADER.rstrip() + b";NB_OFFRES\r\nX;0,1;0,2;0,3;5\r\n"
    assert capping_error(tmp_path, data).column == "NB_OFFRES"


def test_unknown_column_in_corrections_lists_the_allowed_ones(tmp_path):
    data = CORRECTIONS_HEADER.rstrip() + b";PRIX\r\nZOOM1;X;T;G;0,1;0,2;0,3;4\r\n"
    error = corrections_error(tmp_path, data)
    assert error.column == "PRIX"
    assert "optionally CUBE_TYPE, CAPPING_SOURCE, NB_OFFRES" in error.expected


def test_comma_separated_file_where_semicolon_expected(tmp_path):
    data = b"TYPE_CLIENT,CAPPING_HIGH,CAPPING_MEDIUM,CAPPING_LOW\r\nX,0.1,0.2,0.3\r\n"
    error = capping_error(tmp_path, data)
    assert error.line == 1
    assert error.expected.startswith("columns separated by ';'")
    assert error.found.startswith("a header that looks separated by ','")


def test_semicolon_file_where_comma_expected(tmp_path):
    data = CAPPING_HEADER + b"X;0,1;0,2;0,3\r\n"
    error = capping_error(tmp_path, data, CsvDialect(",", ".", "utf-8"))
    assert error.expected.startswith("columns separated by ','")
    assert "looks separated by ';'" in error.found


def test_data_line_with_another_separator(tmp_path):
    data = CAPPING_HEADER + b"A;0,1;0,2;0,3\r\nB,0.1,0.2,0.3\r\n"
    error = capping_error(tmp_path, data)
    assert (error.line, error.column) == (3, None)
    assert error.expected == "4 values separated by ';' like the header"
    assert error.found == "1 value(s) (the separator looks like ',')"


def test_short_line(tmp_path):
    error = capping_error(tmp_path, CAPPING_HEADER + b"A;0,1;0,2\r\n")
    assert (error.line, error.found) == (2, "3 value(s)")


def test_dot_decimal_where_comma_configured(tmp_path):
    data = (
        CORRECTIONS_HEADER
        + b"ZOOM1;RCI PI GI;TRADITIONNEL;NORD;0,030;0,060;0,090\r\n"
        + b"ZOOM1;RSI HM;TRADITIONNEL;NORD;0,030;0,060;0,090\r\n"
        + b"ZOOM1;RSI HM;TRADITIONNEL;SUD;0.05;0,060;0,090\r\n"
    )
    error = corrections_error(tmp_path, data)
    assert (error.line, error.column) == (4, "CAPPING_HIGH")
    assert error.expected == CAP_EXPECTED
    assert str(error) == (
        f"{error.file}, line 4, column CAPPING_HIGH: expected {CAP_EXPECTED}, "
        "found '0.05' ('.' is not the decimal mark here)"
    )


def test_comma_decimal_where_dot_configured(tmp_path):
    data = CORRECTIONS_HEADER + b"ZOOM1;RSI HM;TRAD;SUD;0.02;0,04;0.06\r\n"
    error = corrections_error(tmp_path, data, UTF8_DOT)
    assert (error.line, error.column) == (2, "CAPPING_MEDIUM")
    assert error.expected == (
        "a number between 0 and 1 written with '.' as decimal mark (like 0.05)"
    )
    assert error.found == "'0,04' (',' is not the decimal mark here)"


@pytest.mark.parametrize("value", [b"abc", b"5%", b"1e-2", b"0,0,5", b"N/A", b"1 000"])
def test_text_in_a_number_column(tmp_path, value):
    error = capping_error(tmp_path, CAPPING_HEADER + b"X;0,1;" + value + b";0,3\r\n")
    assert (error.line, error.column) == (2, "CAPPING_MEDIUM")
    assert error.expected == CAP_EXPECTED
    assert error.found == f"{value.decode()!r} (not a number)"


def test_negative_cap(tmp_path):
    error = capping_error(tmp_path, CAPPING_HEADER + b"X;0,1;0,2;-0,3\r\n")
    assert (error.line, error.column, error.found) == (2, "CAPPING_LOW", "'-0,3' (negative)")


def test_cap_above_one(tmp_path):
    data = CORRECTIONS_HEADER + b"ZOOM1;X;T;G;1,5;0,2;0,3\r\n"
    error = corrections_error(tmp_path, data)
    assert (error.line, error.column, error.found) == (2, "CAPPING_HIGH", "'1,5' (above 1)")
    assert error.expected == CAP_EXPECTED


def test_empty_cap(tmp_path):
    error = capping_error(tmp_path, CAPPING_HEADER + b"X;;0,2;0,3\r\n")
    assert (error.line, error.column, error.found) == (2, "CAPPING_HIGH", "an empty value")


def test_empty_key_value(tmp_path):
    error = corrections_error(tmp_path, CORRECTIONS_HEADER + b"ZOOM1;;T;G;0,1;0,2;0,3\r\n")
    assert (error.line, error.column, error.found) == (2, "TYPE_CLIENT", "an empty value")


def test_duplicate_type_client_names_both_lines(tmp_path):
    data = CAPPING_HEADER + b"A;0,1;0,2;0,3\r\nB;0,1;0,2;0,3\r\nA;0,2;0,2;0,3\r\n"
    error = capping_error(tmp_path, data)
    assert (error.line, error.column) == (4, "TYPE_CLIENT")
    assert error.found == "'A' again (already on line 2)"


def test_duplicated_cube_names_both_lines(tmp_path):
    data = (
        CORRECTIONS_HEADER
        + b"ZOOM1;RSI HM;TRAD;SUD;0,1;0,2;0,3\r\n"
        + b"ZOOM1;RSI HM;TRAD;NORD;0,1;0,2;0,3\r\n"
        + b"ZOOM1;RSI HM;TRAD;SUD;0,2;0,2;0,3\r\n"
    )
    error = corrections_error(tmp_path, data)
    assert (error.line, error.column) == (4, "UNIVERS;TYPE_CLIENT;TYPE_RESTAURANT;GEO")
    assert error.found == "the cube ('ZOOM1', 'RSI HM', 'TRAD', 'SUD') again (already on line 2)"


def test_duplicated_cube_with_null_geo(tmp_path):
    data = (
        CORRECTIONS_HEADER
        + b"ZOOM1;NATIONAL;NATIONAL;;0,1;0,2;0,3\r\n"
        + b"ZOOM1;NATIONAL;NATIONAL; ;0,2;0,2;0,3\r\n"
    )
    error = corrections_error(tmp_path, data)
    assert error.line == 3
    assert error.found == (
        "the cube ('ZOOM1', 'NATIONAL', 'NATIONAL', NULL) again (already on line 2)"
    )


def test_unknown_cubes_are_all_listed(tmp_path):
    data = (
        CORRECTIONS_HEADER
        + b"ZOOM1;RSI HM;TRAD;SUD;0,1;0,2;0,3\r\n"
        + b"ZOOM1;RSI HM;TRAD;EST;0,1;0,2;0,3\r\n"
        + b"ZOOM1;NATIONAL;NATIONAL;;0,1;0,2;0,3\r\n"
        + b"ZOOM2;NATIONAL;NATIONAL;;0,1;0,2;0,3\r\n"
    )
    path = write(tmp_path, "capping_cubes_corrections.csv", data)
    rows = read_capping_corrections(path, EXCEL)
    known = {("ZOOM1", "RSI HM", "TRAD", "SUD"), ("ZOOM1", "NATIONAL", "NATIONAL", None)}
    with pytest.raises(InputFileError) as info:
        check_known_cubes(rows, known, path)
    error = info.value
    assert (error.file, error.line) == (str(path), 3)
    assert error.column == "UNIVERS;TYPE_CLIENT;TYPE_RESTAURANT;GEO"
    assert error.found == (
        "2 unknown cube(s): line 3: ('ZOOM1', 'RSI HM', 'TRAD', 'EST'); "
        "line 5: ('ZOOM2', 'NATIONAL', 'NATIONAL', NULL)"
    )
    assert "cubes of the current run" in error.expected


def test_known_cubes_pass_and_geo_is_null_safe(tmp_path):
    data = CORRECTIONS_HEADER + b"ZOOM1;NATIONAL;NATIONAL;;0,1;0,2;0,3\r\n"
    rows = read_capping_corrections(write(tmp_path, "k.csv", data), EXCEL)
    check_known_cubes(rows, {("ZOOM1", "NATIONAL", "NATIONAL", None)}, "k.csv")
    check_known_cubes(rows, {("ZOOM1", "NATIONAL", "NATIONAL", "")}, "k.csv")
    with pytest.raises(InputFileError):
        check_known_cubes(rows, {("ZOOM1", "NATIONAL", "NATIONAL", "NORD")}, "k.csv")


def test_utf8_file_where_cp1252_configured(tmp_path):
    # 'é' written as UTF-8 (C3 A9) would read as 'Ã©' in cp1252.
    data = CAPPING_HEADER + b"RSI HM;0,1;0,2;0,3\r\nCaf\xc3\xa9s;0,1;0,2;0,3\r\n"
    error = capping_error(tmp_path, data)
    assert (error.line, error.column) == (3, None)
    assert error.expected == "a file encoded in cp1252"
    assert error.found.startswith("a file that looks UTF-8 (accents would read as 'Ã©')")
    assert "'Cafés;0,1;0,2;0,3'" in error.found


def test_utf8_file_with_bom_where_cp1252_configured(tmp_path):
    data = (
        b"\xef\xbb\xbf" + CORRECTIONS_HEADER + "ZOOM1;X;Brasserie à vins;;0,1;0,2;0,3\r\n".encode()
    )
    error = corrections_error(tmp_path, data)
    assert error.line == 2
    assert "looks UTF-8" in error.found


def test_cp1252_file_where_utf8_configured(tmp_path):
    data = CAPPING_HEADER + b"RSI HM;0.1;0.2;0.3\r\nCaf\xe9s;0.1;0.2;0.3\r\n"
    error = capping_error(tmp_path, data, UTF8_DOT)
    assert (error.line, error.column) == (3, None)
    assert error.expected == "a file encoded in utf-8-sig"
    assert error.found == (
        "the byte 0xE9, which is not valid utf-8-sig (the file looks cp1252/Windows-encoded)"
    )


def test_byte_undefined_in_cp1252(tmp_path):
    error = capping_error(tmp_path, CAPPING_HEADER + b"A\x81;0,1;0,2;0,3\r\n")
    assert error.line == 2
    assert error.found == "the byte 0x81, which is not valid cp1252"


def test_utf16_file_is_refused(tmp_path):
    data = "TYPE_CLIENT;CAPPING_HIGH;CAPPING_MEDIUM;CAPPING_LOW\r\n".encode("utf-16")
    error = capping_error(tmp_path, data)
    assert error.line == 1
    assert "UTF-16" in error.found


def test_unclosed_quote_is_refused(tmp_path):
    error = capping_error(tmp_path, CAPPING_HEADER + b'"A;0,1;0,2;0,3\r\n')
    assert error.line == 2
    assert "malformed line" in error.found


def test_path_outside_the_allowed_folder_is_refused(tmp_path):
    inside = tmp_path / "corrections"
    inside.mkdir()
    outside = write(tmp_path, "elsewhere.csv", CAPPING_HEADER)
    with pytest.raises(InputFileError) as info:
        read_table(inside / ".." / "elsewhere.csv", EXCEL, ["TYPE_CLIENT"], within=inside)
    assert info.value.found == "a path outside that folder"
    assert outside.exists()


def test_generic_reader_keeps_file_lines_and_display_name(tmp_path):
    data = b'A;B\r\n1;x\r\n\r\n2;"multi\r\nline"\r\n3;z\r\n'
    table = read_table(write(tmp_path, "t.csv", data), EXCEL, ["A", "B"], display="inputs/t.csv")
    assert table.file == "inputs/t.csv"
    assert table.columns == ("A", "B")
    assert [(r.line, r.values) for r in table.records] == [
        (2, {"A": "1", "B": "x"}),
        (4, {"A": "2", "B": "multi\r\nline"}),
        (6, {"A": "3", "B": "z"}),
    ]


def test_long_line(tmp_path):
    error = capping_error(tmp_path, CAPPING_HEADER + b"A;0,1;0,2;0,3;oops;\r\n")
    assert (error.line, error.found) == (2, "5 value(s)")
    assert error.expected == "4 values separated by ';' like the header"


def test_empty_trailing_cells_as_excel_writes_them_are_accepted(tmp_path):
    data = CAPPING_HEADER.rstrip() + b";;\r\nA;0,1;0,2;0,3;;\r\nB;0,1;0,2;0,3\r\n"
    rows = read_capping_type_client(write(tmp_path, "c.csv", data), EXCEL)
    assert [(r.line, r.type_client) for r in rows] == [(2, "A"), (3, "B")]
