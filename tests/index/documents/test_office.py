"""Word, PowerPoint, OpenDocument and e-mail files, made in the tests with the
libraries askdoc reads them with: each is indexed, answers cite it exactly,
a slide is named like a page, and a broken file is skipped with its reason."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest

from assistant.core import Assistant
from assistant.evaluate import citations_exact
from index.build import build_index
from index.documents.loaders import load_document, load_folder


def make_docx(path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_heading("Leave policy", level=1)
    document.add_paragraph("Employees carry over up to five unused leave days into the next year.")
    document.add_heading("Parental leave", level=2)
    document.add_paragraph("New parents receive sixteen weeks of paid parental leave.")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Grade", "Annual days"
    table.cell(1, 0).text, table.cell(1, 1).text = "Senior", "Thirty"
    document.save(str(path))


def make_pptx(path: Path) -> None:
    from pptx import Presentation
    from pptx.util import Inches

    deck = Presentation()
    for heading, body, notes in (
        ("Quarterly results", "Revenue grew by twelve percent in the third quarter.", "Mention the new contracts."),
        ("Hiring plan", "The company will open forty engineering positions in Lisbon.", ""),
    ):
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = heading
        slide.placeholders[1].text = body
        if notes:
            slide.notes_slide.notes_text_frame.text = notes
    slide = deck.slides.add_slide(deck.slide_layouts[5])
    slide.shapes.title.text = "Offices"
    table = slide.shapes.add_table(2, 2, Inches(1), Inches(2), Inches(6), Inches(1)).table
    table.cell(0, 0).text, table.cell(0, 1).text = "City", "Staff"
    table.cell(1, 0).text, table.cell(1, 1).text = "Porto", "Ninety"
    deck.save(str(path))


def make_odt(path: Path) -> None:
    from odf.opendocument import OpenDocumentText
    from odf.text import H, P

    document = OpenDocumentText()
    document.text.addElement(H(outlinelevel=1, text="Travel rules"))
    document.text.addElement(P(text="Train journeys under four hours are booked in second class."))
    document.save(str(path))


def make_eml(path: Path) -> None:
    message = EmailMessage()
    message["Subject"] = "Server maintenance window"
    message["From"] = "it-desk@example.com"
    message["Date"] = "Mon, 02 Nov 2026 09:00:00 +0000"
    message.set_content("The mail servers will be offline on Saturday from 22:00 to 23:30.\n")
    path.write_bytes(bytes(message))


@pytest.fixture
def office_docs(tmp_path) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir()
    make_docx(docs / "handbook.docx")
    make_pptx(docs / "results.pptx")
    make_odt(docs / "travel.odt")
    make_eml(docs / "maintenance.eml")
    (docs / "broken.docx").write_bytes(b"PK\x03\x04 not really a zip")
    return docs


def test_every_format_is_read_in_order_with_headings(office_docs):
    handbook = load_document(office_docs / "handbook.docx", "handbook.docx")
    assert handbook.title == "Leave policy"
    assert handbook.text.index("Leave policy") < handbook.text.index("five unused") < handbook.text.index("Senior | Thirty")
    assert "\n\nParental leave\n\n" in handbook.text  # a heading on a line of its own
    deck = load_document(office_docs / "results.pptx", "results.pptx")
    assert deck.title == "Quarterly results" and len(deck.page_starts) == 3
    assert deck.page_at(deck.text.index("forty engineering")) == 2
    assert deck.page_at(deck.text.index("Porto | Ninety")) == 3 and "new contracts" in deck.text
    travel = load_document(office_docs / "travel.odt", "travel.odt")
    assert travel.title == "Travel rules" and "second class" in travel.text
    mail = load_document(office_docs / "maintenance.eml", "maintenance.eml")
    assert mail.title == "Server maintenance window"
    assert mail.text.startswith("Subject: Server maintenance window\nFrom: it-desk@example.com")


def test_a_broken_file_is_skipped_with_its_reason(office_docs):
    documents, skipped = load_folder(office_docs)
    assert sorted(d.id for d in documents) == ["handbook.docx", "maintenance.eml", "results.pptx", "travel.odt"]
    assert [s.path for s in skipped] == ["broken.docx"]
    assert skipped[0].reason.startswith("unreadable Word file (")


def test_headings_of_word_opendocument_and_markdown_give_each_passage_its_section(office_docs):
    handbook = load_document(office_docs / "handbook.docx", "handbook.docx")
    assert handbook.section_at(handbook.text.index("sixteen weeks")) == "Leave policy › Parental leave"
    assert handbook.section_at(handbook.text.index("five unused")) == "Leave policy"
    travel = load_document(office_docs / "travel.odt", "travel.odt")
    assert travel.section_at(travel.text.index("second class")) == "Travel rules"
    (office_docs / "guide.md").write_text("# Guide\n\n## Setup\n\nRun make.\n\n# Other\n\nText.\n", encoding="utf-8")
    guide = load_document(office_docs / "guide.md", "guide.md")
    assert guide.section_at(guide.text.index("Run make")) == "Guide › Setup"
    assert guide.section_at(guide.text.index("Text.")) == "Other"
    assert load_document(office_docs / "maintenance.eml", "maintenance.eml").headings == ()


@pytest.mark.parametrize("question, source, fact, page, section", [
    ("How many unused leave days can employees carry over?", "handbook.docx", "five unused leave days", None,
     "Leave policy"),
    ("How many weeks of parental leave do new parents get?", "handbook.docx", "sixteen weeks", None,
     "Leave policy › Parental leave"),
    ("How many engineering positions will open in Lisbon?", "results.pptx", "forty engineering positions", 2, None),
    ("Which class are train journeys under four hours booked in?", "travel.odt", "second class", None, "Travel rules"),
    ("When will the mail servers be offline?", "maintenance.eml", "Saturday from 22:00", None, None),
])
def test_questions_about_each_format_cite_it_exactly(office_docs, real_embedder, tmp_path, question, source, fact,
                                                     page, section):
    build_index(office_docs, tmp_path / "index", real_embedder)
    assistant = Assistant.load(tmp_path / "index", embedder=real_embedder)
    answer = assistant.ask(question)
    first = answer.citations[0]
    assert not answer.abstained and first.source == source and fact in first.text
    assert first.page == page and first.section == section
    assert first.to_dict().get("section") == section
    assert citations_exact(answer, lambda s: assistant.index.document(s).text)
