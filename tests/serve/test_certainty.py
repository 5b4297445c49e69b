from xraynet.serve.certainty import certainty_line, uncertainty


def test_lines_say_how_sure_the_model_is():
    assert certainty_line({"Covid": 0.93, "Normal": 0.05, "Viral Pneumonia": 0.02}) == "confident: Covid 0.93"
    assert (certainty_line({"Covid": 0.11, "Normal": 0.48, "Viral Pneumonia": 0.41})
            == "uncertain: Normal 0.48, Viral Pneumonia 0.41")
    assert certainty_line({"Covid": 0.7, "Normal": 0.2, "Viral Pneumonia": 0.1}).startswith("leaning: Covid 0.70")
    unstable = certainty_line({"Covid": 0.93, "Normal": 0.05, "Viral Pneumonia": 0.02},
                              {"Covid": 0.2, "Normal": 0.1, "Viral Pneumonia": 0.1})
    assert unstable.endswith("moves with small changes of the image")


def test_uncertainty_figures():
    u = uncertainty({"a": 1 / 3, "b": 1 / 3, "c": 1 / 3})
    assert u["entropy"] == 1.0 and u["margin"] == 0.0 and u["max_spread"] is None
    sure = uncertainty({"a": 1.0, "b": 0.0, "c": 0.0}, {"a": 0.01, "b": 0.0, "c": 0.02})
    assert sure["entropy"] == 0.0 and sure["margin"] == 1.0 and sure["max_spread"] == 0.02


def test_no_certainty_is_claimed_for_a_flagged_input():
    line = certainty_line({"Covid": 0.99, "Normal": 0.01}, reliable=False)
    assert line.startswith("not assessable") and "Covid 0.99" in line
    assert uncertainty({"Covid": 0.99, "Normal": 0.01}, reliable=False)["summary"] == line
