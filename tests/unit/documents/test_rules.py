"""Pure document rules: type by content, disguised files, names, limits, zip names."""

from __future__ import annotations

import pytest

from comptoir.documents import rules
from comptoir.documents.errors import DocumentFileRefused, DocumentLimitReached, DocumentTooLarge


def test_pdf_jpeg_png_are_recognised_by_their_first_bytes() -> None:
    assert rules.sniff(b"%PDF-1.7\n...") is rules.PDF
    assert rules.sniff(b"\xff\xd8\xff\xe0....") is rules.JPEG
    assert rules.sniff(b"\x89PNG\r\n\x1a\n....") is rules.PNG
    assert rules.sniff(b"MZ\x90\x00") is None


def test_a_pdf_named_png_is_refused_as_disguised() -> None:
    with pytest.raises(DocumentFileRefused, match="PDF mais son nom se termine par .png"):
        rules.check_content(b"%PDF-1.4", "facture.png")


def test_an_executable_named_png_is_refused_and_named() -> None:
    with pytest.raises(DocumentFileRefused, match="programme Windows"):
        rules.check_content(b"MZ\x90\x00\x03", "photo.png")


def test_a_zip_is_refused() -> None:
    with pytest.raises(DocumentFileRefused, match="archive ZIP"):
        rules.check_content(b"PK\x03\x04rest", "facture.pdf")


def test_file_names_lose_paths_accents_and_get_the_real_extension() -> None:
    assert rules.sanitize_file_name("../../etc/Facture été n°1.pdf", rules.PDF) == "Facture ete n1.pdf"
    assert rules.sanitize_file_name("scan", rules.JPEG) == "scan.jpg"
    assert rules.sanitize_file_name(".htaccess", rules.PDF) == "htaccess.pdf"
    assert rules.sanitize_file_name("", rules.PNG) == "document.png"


def test_size_and_count_limits() -> None:
    rules.check_size(10, 10)
    with pytest.raises(DocumentTooLarge):
        rules.check_size(11, 10)
    rules.check_count(49)
    with pytest.raises(DocumentLimitReached):
        rules.check_count(50)


def test_zip_names_get_one_folder_per_order_and_numbered_duplicates() -> None:
    names = rules.zip_member_names([("A-1", "f.pdf"), ("A-1", "f.pdf"), ("B-1", "f.pdf"), ("A-1", "f.pdf")])
    assert names == ["A-1/f.pdf", "A-1/f(1).pdf", "B-1/f.pdf", "A-1/f(2).pdf"]
