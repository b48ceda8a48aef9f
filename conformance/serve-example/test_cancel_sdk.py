"""The official Python SDK (1.7.1) against `alipay-cancel-kit serve`: every row of the
result-code table, answers that must not be believed, a timeout, a sequence and an armed
answer, each asserting what the SDK surfaces, and that no request broke a MUST rule of the
kit. Magic ids (`cancel_kit.magic(scenario)`: `kit:<scenario>:<unique suffix>`) choose the
answers; any other id is cancelled successfully, once, and remembered."""

import json
import pathlib
import uuid

import pytest
from com.alipay.ams.api.exception.exception import AlipayApiException
from com.alipay.ams.api.request.pay.alipay_pay_cancel_request import AlipayPayCancelRequest
from com.alipay.ams.api.response.pay.alipay_pay_cancel_response import AlipayPayCancelResponse

TABLE = pathlib.Path(__file__).resolve().parents[2] / "schema" / "result-codes.json"
ROWS = json.loads(TABLE.read_text(encoding="utf-8"))["rows"]


def cancel(client, payment_id=None, payment_request_id=None):
    request = AlipayPayCancelRequest()
    if payment_id is not None:
        request.payment_id = payment_id
    if payment_request_id is not None:
        request.payment_request_id = payment_request_id
    return AlipayPayCancelResponse(client.execute(request))


@pytest.mark.parametrize("row", ROWS, ids=[row["resultCode"] for row in ROWS])
def test_every_result_code(client, cancel_kit, row):
    sent = cancel_kit.magic("result/" + row["resultCode"])
    response = cancel(client, payment_request_id=sent)
    assert response.result.result_code == row["resultCode"]
    assert response.result.result_status.value == row["resultStatus"]
    if row["resultStatus"] == "S":
        assert response.payment_request_id == sent
        assert response.cancel_time
    cancel_kit.assert_no_violations()


def test_an_ordinary_id_is_cancelled_once_and_remembered(client, cancel_kit):
    sent = "order-%s" % uuid.uuid4().hex
    first = cancel(client, payment_request_id=sent)
    assert first.result.result_status.value == "S"
    assert first.payment_request_id == sent
    again = cancel(client, payment_request_id=sent)
    assert again.cancel_time == first.cancel_time
    journal = cancel_kit.requests(id=sent)
    assert [json.loads(exchange["body"])["paymentRequestId"] for exchange in journal] == [sent, sent]
    cancel_kit.assert_no_violations()


def test_an_unsigned_success_is_not_believed(client, cancel_kit):
    with pytest.raises(AlipayApiException):
        cancel(client, payment_id=cancel_kit.magic("signature/missing-on-success"))


def test_a_tampered_signature_is_not_believed(client, cancel_kit):
    with pytest.raises(AlipayApiException, match="(?i)verif"):
        cancel(client, payment_id=cancel_kit.magic("signature/tampered-success"))


def test_no_answer_in_time_is_an_error_not_a_result(client, cancel_kit):
    with pytest.raises(TimeoutError):
        cancel(client, payment_id=cancel_kit.magic("fault/timeout"))


def test_u_then_success_settles_when_called_again(client, cancel_kit):
    sent = cancel_kit.magic("retry/u-then-success")
    first = cancel(client, payment_id=sent)
    assert first.result.result_status.value == "U"
    second = cancel(client, payment_id=sent)
    assert second.result.result_status.value == "S"
    assert second.payment_id == sent
    cancel_kit.assert_no_violations()


def test_an_armed_answer_plays_for_an_id_the_test_cannot_choose(client, cancel_kit):
    # `armed-<code>-` tells check_proxy_journal.py which answer to expect.
    sent = "armed-PROCESS_FAIL-%s" % uuid.uuid4().hex
    cancel_kit.arm("result/PROCESS_FAIL", id=sent)
    response = cancel(client, payment_request_id=sent)
    assert response.result.result_code == "PROCESS_FAIL"
    assert response.result.result_status.value == "F"
    cancel_kit.assert_no_violations()
