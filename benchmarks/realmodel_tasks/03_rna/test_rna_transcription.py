from rna_transcription import to_rna


def test_empty_strand():
    assert to_rna("") == ""


def test_each_nucleotide():
    assert to_rna("C") == "G"
    assert to_rna("G") == "C"
    assert to_rna("T") == "A"
    assert to_rna("A") == "U"


def test_a_strand():
    assert to_rna("ACGTGGTCTTAA") == "UGCACCAGAAUU"
