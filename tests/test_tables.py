import pytest

from course_lib.tables import html_table


def test_cells_are_escaped_and_rows_kept_in_order():
    table = html_table(["", "T5"], [["norm <placement>", "pre-norm"], ["중간", 3]]).data
    assert "<th></th><th>T5</th>" in table
    assert table.index("norm &lt;placement&gt;") < table.index("<td>중간</td><td>3</td>")
    with pytest.raises(ValueError, match="row 0 has 3 cells but the header has 2"):
        html_table(["a", "b"], [[1, 2, 3]])
