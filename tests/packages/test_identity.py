"""Check characters of resident IDs (GB 11643) and unified credit codes (GB 32100)."""

from datetime import date

import pytest

from dangan.packages.identity import (
    credit_code_check_char,
    credit_code_problem,
    is_valid_credit_code,
    is_valid_resident_id,
    resident_id_check_char,
    resident_id_problem,
    validate_party_id,
)

# Published examples: the GB 11643 textbook numbers; credit codes quoted as valid in
# public validators' test suites (hutool, cloud-utils) and the GB 32100 explanatory example.
VALID_RESIDENT = ["11010519491231002X", "440524188001010014"]
VALID_CREDIT = [
    "91350100M000100Y43",
    "91310115591693856A",
    "91310110666007217T",
    "91230184MA1BUFLT44",
    "92371000MA3MXH0E3W",
    "123502001549897397",
]


@pytest.mark.parametrize("number", VALID_RESIDENT)
def test_published_resident_ids_are_valid(number: str) -> None:
    assert resident_id_check_char(number[:17]) == number[17]
    assert is_valid_resident_id(number)
    assert validate_party_id("resident_id", number) is None


def test_resident_check_char_x_for_remainder_two() -> None:
    assert resident_id_check_char("11010519491231002") == "X"


def test_one_wrong_digit_in_resident_id_is_caught() -> None:
    reason = validate_party_id("resident_id", "110105194912310021")
    assert reason is not None and "校验码" in reason and "应为 X" in reason


def test_lowercase_x_and_wrong_length_rejected() -> None:
    assert not is_valid_resident_id("11010519491231002x")
    assert "18 位" in resident_id_problem("1101051949123100")


def test_impossible_or_future_birth_date_rejected() -> None:
    body = "11010519490231002"  # 31 February
    number = body + resident_id_check_char(body)
    assert "不是有效日期" in resident_id_problem(number)
    body = "11010530000101002"  # year 3000
    number = body + resident_id_check_char(body)
    assert "不合理" in resident_id_problem(number, today=date(2024, 1, 1))


def test_region_must_not_start_with_zero() -> None:
    body = "01010519491231002"
    assert not is_valid_resident_id(body + resident_id_check_char(body))


@pytest.mark.parametrize("code", VALID_CREDIT)
def test_published_credit_codes_are_valid(code: str) -> None:
    assert credit_code_check_char(code[:17]) == code[17]
    assert is_valid_credit_code(code)
    assert validate_party_id("credit_code", code) is None


def test_credit_check_char_31_maps_to_zero() -> None:
    # Find a body whose weighted sum is a multiple of 31; its check char must be "0".
    for n in range(10000):
        body = f"9135010000000{n:04d}"
        if credit_code_check_char(body) == "0":
            assert is_valid_credit_code(body + "0")
            return
    pytest.fail("no body with check char 0 found")


def test_wrong_credit_check_char_named() -> None:
    reason = validate_party_id("credit_code", "91350211M00013FA1N")  # known non-conforming
    assert reason is not None and "校验码错误" in reason and "应为 3" in reason


def test_credit_code_forbidden_letters_and_codes() -> None:
    assert "不含 I" in credit_code_problem("91350100M000100I43")
    body = "B1350100M000100Y4"  # authority B does not exist
    assert "登记管理部门" in credit_code_problem(body + credit_code_check_char(body))
    body = "95350100M000100Y4"  # 工商 has no type 5
    assert "机构类别" in credit_code_problem(body + credit_code_check_char(body))


def test_other_document_types_need_only_a_value() -> None:
    assert validate_party_id("passport", "E12345678") is None
    assert validate_party_id("passport", "  ") == "证件号码为空"
    assert "未知的证件类型" in validate_party_id("driver_license", "123")
