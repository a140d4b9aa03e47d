"""What an assessor does in the console: the same domain calls as the chat's buttons, recorded the same way, and
the same replies queued for the candidate."""

from datetime import date

from aiohttp import web

from bot.domain.assessor_work import Denied
from bot.domain.caseload import SignedOff, UnitNotComplete
from bot.domain.judging import Asked
from bot.storage.ids import stored
from bot.storage.models import Submission
from bot.telegram.assessing import send_records, tell_candidate
from bot.web.requests import Signed, action, back_to, page, refusal


@action
def send_to_chat(request: web.Request, signed: Signed, form: dict) -> web.StreamResponse:
    """The records as PDFs in the assessor's Telegram chat: inside a Mini App a download may go nowhere."""
    enrolment_id = int(request.match_info["enrolment"])
    refused = send_records(signed.work, signed.person, enrolment_id)
    return refusal(refused) if refused is not None else back_to(enrolment_id, "sent")


@action
def move_deadline(request: web.Request, signed: Signed, form: dict) -> web.StreamResponse:
    enrolment_id = int(request.match_info["enrolment"])
    try:
        new_date = date.fromisoformat(str(form.get("deadline", "")))
    except ValueError:
        return page("denied.html", status=400, denied="date_needed")
    moved = signed.work.caseload.set_deadline(signed.person, enrolment_id, new_date)
    return refusal(moved) if isinstance(moved, Denied) else back_to(enrolment_id, "deadline")


@action
def confirm_credit(request: web.Request, signed: Signed, form: dict) -> web.StreamResponse:
    enrolment_id, answer = int(request.match_info["enrolment"]), str(form.get("answer", ""))
    if not answer.isdigit():
        return refusal(Denied.NO_SUCH_CREDIT)
    confirmed = signed.work.caseload.confirm_credit(signed.person, enrolment_id, int(answer), str(form.get("criterion", "")))
    return refusal(confirmed) if isinstance(confirmed, Denied) else back_to(enrolment_id, "credit")


@action
def judge(request: web.Request, signed: Signed, form: dict) -> web.StreamResponse:
    answer_id = int(request.match_info["answer"])
    outcome = str(form.get("outcome", ""))
    feedback = str(form.get("feedback", "")).strip() or None
    if outcome not in ("met", "not_yet"):
        return page("denied.html", status=400, denied="bad_request")  # only a forged form sends another
    if outcome == "not_yet" and not feedback:
        return page("denied.html", status=400, denied="feedback_needed")
    judgment = signed.work.judging.judge(signed.person, answer_id, outcome, feedback if outcome == "not_yet" else None)
    if isinstance(judgment, Denied):
        return refusal(judgment)
    return back_to(signed.work.repo.enrolment_id_of_answer(answer_id), "judged")


@action
def ask(request: web.Request, signed: Signed, form: dict) -> web.StreamResponse:
    answer_id = int(request.match_info["answer"])
    question = str(form.get("question", "")).strip()
    if not question:
        return page("denied.html", status=400, denied="question_needed")
    asked = signed.work.judging.ask(signed.person, answer_id, question)
    if isinstance(asked, Denied):
        return refusal(asked)
    assert isinstance(asked, Asked)
    tell_candidate(signed.work, asked)
    return back_to(signed.work.repo.enrolment_id_of_answer(answer_id), "asked")


@action
def sign_off(request: web.Request, signed: Signed, form: dict) -> web.StreamResponse:
    submission_id = int(request.match_info["submission"])
    outcome = signed.work.caseload.sign_off(signed.person, submission_id, interim=form.get("interim") == "1")
    if isinstance(outcome, Denied):
        return refusal(outcome)
    if isinstance(outcome, UnitNotComplete):
        return page("unit_not_complete.html", status=200, me=signed.assessor, csrf=signed.row.csrf_token,
                     via=signed.row.via, outcome=outcome)
    assert isinstance(outcome, SignedOff)
    tell_candidate(signed.work, outcome)
    return back_to(stored(signed.work.session, Submission, submission_id).enrolment_id, "signed_off")  # it was signed off

