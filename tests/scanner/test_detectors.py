"""The detectors, type by type: what each reports (exact type and span) and the look-alikes it must leave.

Every case states the complete list of findings of its post as ``(type, raw[start:end])``: a positive says
exactly what is found and where, a negative that nothing (or only the named other item) is.
"""

from __future__ import annotations

import pytest

from sidecar.scanner import FindingType, Severity
from tests.scanner.common import SCANNER, found, only

CC = FindingType.CREDIT_CARD.value
SSN = FindingType.US_SSN.value
SIN = FindingType.CA_SIN.value
IBAN = FindingType.IBAN.value
ABA = FindingType.ABA_ROUTING.value
BANK = FindingType.BANK_ACCOUNT.value
EMAIL = FindingType.EMAIL.value
PHONE = FindingType.PHONE.value
DOB = FindingType.DOB.value
ADDRESS = FindingType.ADDRESS.value
IP = FindingType.IP_ADDRESS.value
PASSWORD = FindingType.PASSWORD.value
SIP = FindingType.SIP_CREDENTIAL.value
PEM = FindingType.PRIVATE_KEY.value
API = FindingType.API_KEY.value
BEARER = FindingType.BEARER_TOKEN.value

Case = tuple[str, list[tuple[str, str]]]


def check(raw: str, expected: list[tuple[str, str]]) -> None:
    assert found(raw) == expected


# --- payment cards ---------------------------------------------------------------------------------------

CARDS = [
    pytest.param("Visa 4111 1111 1111 1111 thanks", [(CC, "4111 1111 1111 1111")], id="visa-spaced"),
    pytest.param("card: 4111-1111-1111-1111.", [(CC, "4111-1111-1111-1111")], id="visa-dashed"),
    pytest.param("paid with 4012888888881881 yesterday", [(CC, "4012888888881881")], id="visa-compact"),
    pytest.param("old Visa 4222222222222", [(CC, "4222222222222")], id="visa-13-digits"),
    pytest.param("MC 5105 1051 0510 5100", [(CC, "5105 1051 0510 5100")], id="mastercard-51"),
    pytest.param("Mastercard 5555555555554444", [(CC, "5555555555554444")], id="mastercard-55"),
    pytest.param("Mastercard 2221 0000 0000 0009", [(CC, "2221 0000 0000 0009")], id="mastercard-2221"),
    pytest.param("card 2223000048400011", [(CC, "2223000048400011")], id="mastercard-2223"),
    pytest.param("card 2720-9900-0000-0007", [(CC, "2720-9900-0000-0007")], id="mastercard-2720"),
    pytest.param("Amex 3782 822463 10005", [(CC, "3782 822463 10005")], id="amex-4-6-5"),
    pytest.param("Amex 371449635398431", [(CC, "371449635398431")], id="amex-compact"),
    pytest.param("Discover 6011-0009-9013-9424", [(CC, "6011-0009-9013-9424")], id="discover"),
    pytest.param("JCB 3530111333300000", [(CC, "3530111333300000")], id="jcb"),
    pytest.param("Diners 3056 930902 5904", [(CC, "3056 930902 5904")], id="diners-4-6-4"),
    pytest.param("(4111111111111111)", [(CC, "4111111111111111")], id="in-parentheses"),
]
NOT_CARDS = [
    pytest.param("card 4111 1111 1111 1112", [], id="luhn-invalid"),
    pytest.param("card 5105105105105101", [], id="luhn-invalid-mastercard"),
    pytest.param("card 2721000000000004", [], id="2721-is-no-mastercard"),
    pytest.param("card 2220000000000000", [], id="2220-is-no-mastercard"),
    pytest.param("card 1234567890123452", [], id="luhn-valid-no-issuer"),
    pytest.param("Order number 4111 1111 1111 1111", [], id="order-number"),
    pytest.param("RMA 5105105105105100 received", [], id="rma-number"),
    pytest.param("ticket #4111111111111111", [], id="ticket-number"),
    pytest.param("invoice 4111-1111-1111-1111", [], id="invoice-number"),
    pytest.param("serial 4111111111111111", [], id="serial-number"),
    pytest.param("4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1", [], id="single-digit-groups"),
    pytest.param("4111 1111 1111 1111 1", [], id="longer-digit-run"),
]


@pytest.mark.parametrize(("raw", "expected"), CARDS + NOT_CARDS)
def test_credit_cards(raw: str, expected: list[tuple[str, str]]) -> None:
    check(raw, expected)


# --- national identifiers and bank details ---------------------------------------------------------------

NATIONAL = [
    pytest.param("SSN 536-90-4399", [(SSN, "536-90-4399")], id="ssn-dashed"),
    pytest.param("SSN: 123-45-6789.", [(SSN, "123-45-6789")], id="ssn-dashed-2"),
    pytest.param("SSN: 123 45 6789", [(SSN, "123 45 6789")], id="ssn-spaced-with-context"),
    pytest.param("my SSN is 123456789", [(SSN, "123456789")], id="ssn-bare-with-context"),
    pytest.param("social security number 536904399", [(SSN, "536904399")], id="ssn-social-security"),
    pytest.param("SSN 000-12-3456", [], id="ssn-area-000"),
    pytest.param("SSN 666-12-3456", [], id="ssn-area-666"),
    pytest.param("SSN 900-12-3456", [], id="ssn-area-9xx"),
    pytest.param("SSN 987-65-4321", [], id="ssn-area-987"),
    pytest.param("SSN 123-00-4567", [], id="ssn-group-00"),
    pytest.param("SSN 123-45-0000", [], id="ssn-serial-0000"),
    pytest.param("123 45 6789", [], id="ssn-spaced-without-context"),
    pytest.param("123456789", [], id="nine-digits-without-context"),
    pytest.param("SIN 130 692 544", [(SIN, "130 692 544")], id="sin-spaced"),
    pytest.param("my SIN is 130-692-544", [(SIN, "130-692-544")], id="sin-dashed"),
    pytest.param("SIN: 130692544", [(SIN, "130692544")], id="sin-bare-with-context"),
    pytest.param("numéro d'assurance sociale 130692544", [(SIN, "130692544")], id="sin-bare-french-context"),
    pytest.param("SIN 130 692 545", [], id="sin-luhn-invalid"),
    pytest.param("130692544", [], id="sin-bare-without-context"),
    pytest.param("IBAN GB82WEST12345698765432", [(IBAN, "GB82WEST12345698765432")], id="iban-compact"),
    pytest.param(
        "IBAN GB82 WEST 1234 5698 7654 32 thanks", [(IBAN, "GB82 WEST 1234 5698 7654 32")], id="iban-grouped"
    ),
    pytest.param("DE89 3704 0044 0532 0130 00", [(IBAN, "DE89 3704 0044 0532 0130 00")], id="iban-de"),
    pytest.param(
        "IBAN: FR14 2004 1010 0505 0001 3M02 606", [(IBAN, "FR14 2004 1010 0505 0001 3M02 606")], id="iban-fr"
    ),
    pytest.param("pay NL91ABNA0417164300 now", [(IBAN, "NL91ABNA0417164300")], id="iban-nl"),
    pytest.param("IBAN GB82WEST12345698765433", [], id="iban-bad-checksum"),
    pytest.param("IBAN DE89 3704 0044 0532 0130 01", [], id="iban-grouped-bad-checksum"),
    pytest.param("routing number 021000021", [(ABA, "021000021")], id="aba-routing"),
    pytest.param("ABA 011000015", [(ABA, "011000015")], id="aba-aba"),
    pytest.param("transit 026009593", [(ABA, "026009593")], id="aba-transit"),
    pytest.param("021000021", [], id="aba-without-context"),
    pytest.param("order 021000021", [], id="aba-digits-as-order"),
    pytest.param("routing number 021000022", [], id="aba-bad-checksum"),
    pytest.param("account number: 12345678", [(BANK, "12345678")], id="account-number"),
    pytest.param("acct # 00012345678", [(BANK, "00012345678")], id="account-acct"),
    pytest.param("bank account 1234-5678-90", [(BANK, "1234-5678-90")], id="account-dashed"),
    pytest.param(
        "routing 011000015, account number 123456789012",
        [(ABA, "011000015"), (BANK, "123456789012")],
        id="routing-and-account",
    ),
    pytest.param("account number 12345", [], id="account-too-short"),
    pytest.param("my account was locked after 3 tries", [], id="account-prose"),
    pytest.param("12345678", [], id="account-digits-without-context"),
]


@pytest.mark.parametrize(("raw", "expected"), NATIONAL)
def test_national_ids_and_bank_details(raw: str, expected: list[tuple[str, str]]) -> None:
    check(raw, expected)


# --- email -----------------------------------------------------------------------------------------------

EMAILS = [
    pytest.param("mail jane.doe@acme-corp.com.", [(EMAIL, "jane.doe@acme-corp.com")], id="plain"),
    pytest.param(
        "<jane_doe+forums@mitel-users.org>", [(EMAIL, "jane_doe+forums@mitel-users.org")], id="plus-tag"
    ),
    pytest.param("j.roe@mail.acme-corp.co.uk", [(EMAIL, "j.roe@mail.acme-corp.co.uk")], id="subdomain"),
    pytest.param("Jane.Doe@ACME-corp.COM", [(EMAIL, "Jane.Doe@ACME-corp.COM")], id="mixed-case"),
    pytest.param("jane@example.com", [], id="example-com"),
    pytest.param("jane@example.org", [], id="example-org"),
    pytest.param("jane@foo.test", [], id="dot-test"),
    pytest.param("bob@acme.local", [], id="dot-local"),
    pytest.param("support@acme-corp.com", [], id="role-support"),
    pytest.param("info@acme-corp.com", [], id="role-info"),
    pytest.param("noreply@acme-corp.com", [], id="role-noreply"),
    pytest.param("<sip:1001@pbx.acme-corp.com>", [], id="sip-uri"),
    pytest.param("sips:alice@pbx.acme-corp.com", [], id="sips-uri-with-name"),
    pytest.param("dial 4410@acme-corp.com", [], id="extension-user"),
    pytest.param("admin@pbx", [], id="no-domain"),
]


@pytest.mark.parametrize(("raw", "expected"), EMAILS)
def test_emails(raw: str, expected: list[tuple[str, str]]) -> None:
    check(raw, expected)


# --- phone -----------------------------------------------------------------------------------------------

PHONES = [
    pytest.param("call me at (613) 722-4410", [(PHONE, "(613) 722-4410")], id="nanp-parentheses"),
    pytest.param("call me at 613-722-4410.", [(PHONE, "613-722-4410")], id="nanp-dashed"),
    pytest.param("cell 613.722.4410", [(PHONE, "613.722.4410")], id="nanp-dotted"),
    pytest.param("desk 613 722 4410", [(PHONE, "613 722 4410")], id="nanp-spaced"),
    pytest.param("+1 613 722 4410", [(PHONE, "+1 613 722 4410")], id="nanp-plus-one"),
    pytest.param("1-613-722-4410", [(PHONE, "1-613-722-4410")], id="nanp-leading-one"),
    pytest.param("reach me on +16137224410", [(PHONE, "+16137224410")], id="nanp-e164"),
    pytest.param("my cell is 6137224410", [(PHONE, "6137224410")], id="nanp-bare-with-context"),
    pytest.param("our Mitel landline is 6137224410", [(PHONE, "6137224410")], id="nanp-bare-after-mitel"),
    pytest.param("UK office +44 20 7946 0958", [(PHONE, "+44 20 7946 0958")], id="intl-uk-london"),
    pytest.param("Paris +33 1 42 68 53 00", [(PHONE, "+33 1 42 68 53 00")], id="intl-france"),
    pytest.param("Sydney +61 2 9876 5432", [(PHONE, "+61 2 9876 5432")], id="intl-australia"),
    pytest.param("Tokyo +81 3-1234-5678", [(PHONE, "+81 3-1234-5678")], id="intl-japan"),
    pytest.param("mobile +447911123456", [(PHONE, "+447911123456")], id="intl-e164"),
    # UK mobiles are written 4+6 and German numbers with long groups: both are valid for phonenumbers.
    pytest.param("mobile +44 7911 123456", [(PHONE, "+44 7911 123456")], id="intl-uk-mobile-6-digit-group"),
    pytest.param(
        "Munich office +49 89 12345678", [(PHONE, "+49 89 12345678")], id="intl-germany-8-digit-group"
    ),
    pytest.param("call 613-555-0142", [], id="nanp-555"),
    pytest.param("call me at (613) 555-0199", [], id="nanp-555-parentheses"),
    pytest.param("From: <sip:+16137224410@pbx.acme-corp.com>;tag=1234", [], id="sip-from-header"),
    pytest.param("P-Asserted-Identity: <sip:+16137224410@pbx.acme-corp.com>", [], id="sip-pai-header"),
    pytest.param("Contact: <sip:6137224410@pbx.acme-corp.com:5060>", [], id="sip-contact-header"),
    pytest.param("INVITE sip:+16137224410@pbx.acme-corp.com SIP/2.0", [], id="sip-request-line"),
    pytest.param("6137224410", [], id="bare-digits"),
    pytest.param("order 6137224410 shipped", [], id="order-number"),
    pytest.param("RMA 613-722-4410", [], id="rma-shaped-like-a-phone"),
    pytest.param("ts 1700000000123", [], id="timestamp"),
    pytest.param("version 10.1.2.3456", [], id="version"),
    pytest.param("logged 2024-03-15 10:42:00", [], id="date-time"),
    pytest.param("on 03/15/2024", [], id="date"),
    # Digits are looked for within 60 characters after a phone word ("contact"), but a run that goes on
    # past them is no 10-digit number: here its first ten digits end exactly where that window does.
    pytest.param("contact details below; the landline at the farms: 61372244109999", [], id="long-run"),
]


@pytest.mark.parametrize(("raw", "expected"), PHONES)
def test_phones(raw: str, expected: list[tuple[str, str]]) -> None:
    check(raw, expected)


def test_an_ip_address_is_an_ip_address_not_a_phone() -> None:
    assert found("the phone is at 10.20.30.40") == [(IP, "10.20.30.40")]


# --- dates of birth and addresses ------------------------------------------------------------------------

DOBS_AND_ADDRESSES = [
    pytest.param("DOB: 1985-04-12", [(DOB, "1985-04-12")], id="dob-iso"),
    pytest.param("date of birth 04/12/1985", [(DOB, "04/12/1985")], id="dob-slashes"),
    pytest.param("I was born on March 3, 1979.", [(DOB, "March 3, 1979")], id="dob-born-on"),
    pytest.param("born 3rd March 1979", [(DOB, "3rd March 1979")], id="dob-day-month-year"),
    pytest.param("birthday: 12/04/85", [(DOB, "12/04/85")], id="dob-birthday-short-year"),
    pytest.param("Installed on 2024-03-15", [], id="date-without-birth-context"),
    pytest.param("the upgrade on March 3, 2024 went fine", [], id="prose-date-without-birth-context"),
    pytest.param("born in 1979", [], id="birth-year-only"),
    pytest.param(
        "Ship to 123 Main Street, Ottawa, ON K1A 0B1",
        [(ADDRESS, "123 Main Street, Ottawa, ON K1A 0B1")],
        id="address-canada",
    ),
    pytest.param("I live at 4410 Bank St. in Ottawa", [(ADDRESS, "4410 Bank St.")], id="address-short"),
    pytest.param(
        "350 Fifth Avenue, New York, NY 10118",
        [(ADDRESS, "350 Fifth Avenue, New York, NY 10118")],
        id="address-us",
    ),
    pytest.param(
        "1600 Pennsylvania Avenue NW, Washington, DC 20500",
        [(ADDRESS, "1600 Pennsylvania Avenue NW, Washington, DC 20500")],
        id="address-direction",
    ),
    pytest.param(
        "office: 100 Queen St W, Toronto, ON M5H 2N2",
        [(ADDRESS, "100 Queen St W, Toronto, ON M5H 2N2")],
        id="address-toronto",
    ),
    pytest.param("We have 24 Mitel Phones", [], id="count-of-things"),
    pytest.param("I have 3 Cisco Routers on Main", [], id="no-street-type"),
]


@pytest.mark.parametrize(("raw", "expected"), DOBS_AND_ADDRESSES)
def test_dates_of_birth_and_addresses(raw: str, expected: list[tuple[str, str]]) -> None:
    check(raw, expected)


# --- IP addresses ----------------------------------------------------------------------------------------

IPS = [
    pytest.param("IP 10.20.30.40", [(IP, "10.20.30.40")], id="private"),
    pytest.param("the gateway is 10.20.30.1.", [(IP, "10.20.30.1")], id="end-of-sentence"),
    pytest.param("proxy 10.20.30.40:5060", [(IP, "10.20.30.40")], id="with-port"),
    pytest.param("public 24.114.9.30", [(IP, "24.114.9.30")], id="public"),
    pytest.param("v6 2607:f8b0:4004:c07::64", [(IP, "2607:f8b0:4004:c07::64")], id="ipv6"),
    # In full, the address is reported as written and kept in its short form (one fingerprint for both).
    pytest.param(
        "v6 2607:f8b0:4004:0c07:0000:0000:0000:0064 on the SBC",
        [(IP, "2607:f8b0:4004:0c07:0000:0000:0000:0064")],
        id="ipv6-full",
    ),
    pytest.param(
        "peer 2607:f8b0:4004:c07:1:2:3:64.",
        [(IP, "2607:f8b0:4004:c07:1:2:3:64")],
        id="ipv6-full-short-groups",
    ),
    pytest.param("9.1.0.15", [(IP, "9.1.0.15")], id="version-shaped-without-context"),
    # A post about a Mitel system names it: the product name before an address does not make it a version.
    pytest.param("our MiVB controller is at 24.114.9.30", [(IP, "24.114.9.30")], id="after-product-name"),
    # Words that merely contain a version hint ("ser-ver ", "down-load", "build-ing") do not make a version.
    pytest.param("The server is 192.168.1.20", [(IP, "192.168.1.20")], id="after-server"),
    pytest.param("SIP server 24.114.9.30", [(IP, "24.114.9.30")], id="after-sip-server"),
    pytest.param("the load balancer at 10.1.1.5", [(IP, "10.1.1.5")], id="after-load-balancer"),
    pytest.param("download it from 24.114.9.30", [(IP, "24.114.9.30")], id="after-download"),
    pytest.param("the building's router is 10.1.1.5", [(IP, "10.1.1.5")], id="after-building"),
    pytest.param("we upgraded to 9.1.0.15 last week", [], id="version-upgraded-to"),
    pytest.param("running firmware 9.1.0.15", [], id="version-firmware"),
    pytest.param("MiVB 9.1.0.15", [], id="version-product"),
    pytest.param("mask 255.255.255.0", [], id="netmask"),
    pytest.param("wildcard 0.0.0.255", [], id="wildcard-mask"),
    pytest.param("server 192.0.2.10", [], id="documentation-range"),
    pytest.param("server 198.51.100.7 and 203.0.113.9", [], id="documentation-ranges"),
    pytest.param("dns 8.8.8.8 and 1.1.1.1", [], id="public-resolvers"),
    pytest.param("route 10.0.0.0/8", [], id="network"),
    pytest.param("route 192.168.10.0/24", [], id="network-24"),
    pytest.param("localhost 127.0.0.1", [], id="loopback"),
    pytest.param("MAC 00:11:22:33:44:55", [], id="mac-colons"),
    pytest.param("MAC 00-08-5D-33-44-55", [], id="mac-dashes"),
    pytest.param(
        "the SBC is at 2607:f8b0:4004:c07::64.", [(IP, "2607:f8b0:4004:c07::64")], id="ipv6-sentence-end"
    ),
    pytest.param("v6 ::ffff:24.114.9.30 mapped", [(IP, "24.114.9.30")], id="ipv4-mapped"),
    pytest.param("v6 2001:db8::1", [], id="ipv6-documentation"),
    pytest.param("v6 fe80::1", [], id="ipv6-link-local"),
    pytest.param("v6 2001:0db8:85a3:0000:0000:8a2e:0370:7334", [], id="ipv6-full-documentation"),
    pytest.param("v6 fe80:0000:0000:0000:0202:b3ff:fe1e:8329", [], id="ipv6-full-link-local"),
    pytest.param("ids 1:2:3:4:5:6:7:8:9", [], id="nine-groups"),
    pytest.param("WWN 20:00:00:25:b5:00:00:0f on the HBA", [], id="wwn-eight-bytes"),
    pytest.param("EUI-64 02:00:5e:10:00:00:00:01", [], id="eui-64"),
    pytest.param("use a::b here, and Bad::Face.", [], id="cxx-names"),
    pytest.param("at 12:30:45 and 12:31:02 and 12:31:40", [], id="times"),
    pytest.param("on 10.01.2024", [], id="date-with-dots"),
]


@pytest.mark.parametrize(("raw", "expected"), IPS)
def test_ip_addresses(raw: str, expected: list[tuple[str, str]]) -> None:
    check(raw, expected)


@pytest.mark.parametrize(
    ("raw", "severity"),
    [
        ("lan 192.168.1.20", Severity.LOW),
        ("lan 10.20.30.40", Severity.LOW),
        ("lan 172.16.5.4", Severity.LOW),
        ("public 24.114.9.30", Severity.MEDIUM),
        ("v6 2607:f8b0:4004:c07::64", Severity.MEDIUM),
    ],
)
def test_a_private_address_is_low_a_public_one_medium(raw: str, severity: Severity) -> None:
    assert only(raw, IP).severity == severity.value


# --- passwords and SIP credentials -----------------------------------------------------------------------

PASSWORDS = [
    pytest.param("password=Hunter2024!", [(PASSWORD, "Hunter2024!")], id="config-equals"),
    pytest.param("pwd = Abc12345", [(PASSWORD, "Abc12345")], id="config-pwd"),
    pytest.param('{"username": "jdoe", "password": "Tr0ub4dor&3"}', [(PASSWORD, "Tr0ub4dor&3")], id="json"),
    pytest.param("db:\n  host: db1\n  password: Welcome2024!\n", [(PASSWORD, "Welcome2024!")], id="yaml"),
    pytest.param('password: "Welcome2024!"', [(PASSWORD, "Welcome2024!")], id="yaml-quoted"),
    pytest.param("<Password>Welcome2024!</Password>", [(PASSWORD, "Welcome2024!")], id="xml"),
    pytest.param("the admin password is Welcome2024!", [(PASSWORD, "Welcome2024!")], id="prose"),
    pytest.param(
        'The password for the admin portal is "correct horse battery"',
        [(PASSWORD, "correct horse battery")],
        id="prose-quoted",
    ),
    pytest.param("login admin / Mitel123!", [(PASSWORD, "Mitel123!")], id="login-pair"),
    pytest.param("ftp://admin:Hunter2024@ftp.acme-corp.com/", [(PASSWORD, "Hunter2024")], id="url-userinfo"),
    # Keys that merely contain "min", "store" or "change" ("admin", "keystore", "exchange") are secrets too.
    pytest.param('admin_password = "S3cr3t!x"', [(PASSWORD, "S3cr3t!x")], id="admin-password-key"),
    pytest.param("AdminPassword: Welcome2024!", [(PASSWORD, "Welcome2024!")], id="admin-password-camel"),
    pytest.param("keystore_password=Xk92!mnq", [(PASSWORD, "Xk92!mnq")], id="keystore-password-key"),
    pytest.param("password=********", [], id="placeholder-stars"),
    pytest.param("password=${DB_PASSWORD}", [], id="placeholder-variable"),
    pytest.param("password=<password>", [], id="placeholder-angle"),
    pytest.param("password=%PASSWORD%", [], id="placeholder-windows-variable"),
    pytest.param("password: {{ vault_pw }}", [], id="placeholder-template"),
    pytest.param("password: changeme", [], id="placeholder-changeme"),
    pytest.param("for example: password=changeme", [], id="placeholder-documentation"),
    pytest.param("the default password is changeme", [], id="placeholder-default-prose"),
    pytest.param("password=xxxxxxxx", [], id="placeholder-x"),
    # The placeholders of _placeholder's own comment ("[redacted]"), written without quotes.
    pytest.param("password: [redacted]", [], id="placeholder-redacted-brackets"),
    pytest.param("password = (hidden)", [], id="placeholder-hidden-parentheses"),
    pytest.param("I reset the password yesterday", [], id="prose-no-value"),
    pytest.param("The password policy requires 12 characters.", [], id="prose-policy"),
    pytest.param("password is required", [], id="prose-required"),
    pytest.param("my password is too long", [], id="prose-too-long"),
    pytest.param("Forgot your password? Click reset.", [], id="prose-question"),
    pytest.param("Password: stored in the vault", [], id="prose-after-colon"),
    pytest.param("password_min_length=12", [], id="setting-min-length"),
    pytest.param("password_expiry_days=90", [], id="setting-expiry"),
    pytest.param("password: true", [], id="setting-boolean"),
]


@pytest.mark.parametrize(("raw", "expected"), PASSWORDS)
def test_passwords(raw: str, expected: list[tuple[str, str]]) -> None:
    check(raw, expected)


SIP_CREDENTIALS = [
    pytest.param("register => 1001:Pa55word@sip.provider.com", [(SIP, "Pa55word")], id="register-line"),
    pytest.param(
        "register => 1001:Pa55word:jsmith@sip.provider.com/1001",
        [(SIP, "Pa55word")],
        id="register-line-with-auth-user",
    ),
    pytest.param(
        "[trunk1]\ntype=peer\nhost=sip.provider.com\nusername=1001\nsecret=Pa55word99\n",
        [(SIP, "Pa55word99")],
        id="sip-conf-peer-secret",
    ),
    pytest.param("[1001]\ntype=friend\nsecret=Xy7!kLm2\n", [(SIP, "Xy7!kLm2")], id="sip-conf-friend-secret"),
    pytest.param("sip:1001:Pa55word@pbx.acme-corp.com", [(SIP, "Pa55word")], id="sip-uri-user-password"),
    pytest.param("<sips:alice:S3cret99@pbx.acme-corp.com>", [(SIP, "S3cret99")], id="sips-uri"),
    pytest.param("sips:alice:S3cret99@pbx.acme-corp.com", [(SIP, "S3cret99")], id="sips-uri-bare"),
    pytest.param(
        "Contact: <sip:1001:Pa55word@10.1.1.5>",
        [(SIP, "Pa55word"), (IP, "10.1.1.5")],
        id="sip-uri-in-angle-brackets",
    ),
    pytest.param('uri = "sip:1001:Pa55word@pbx.acme-corp.com"', [(SIP, "Pa55word")], id="sip-uri-quoted"),
    pytest.param("The SIP password is Welcome2024!", [(SIP, "Welcome2024!")], id="prose"),
    pytest.param("sip_password=Welcome2024!", [(SIP, "Welcome2024!")], id="sip-key"),
    pytest.param("register => 1001:${SIP_SECRET}@sip.provider.com", [], id="register-placeholder"),
    pytest.param("[trunk1]\ntype=peer\nsecret=********\n", [], id="sip-conf-placeholder"),
    pytest.param("sip:1001@pbx.acme-corp.com", [], id="sip-uri-without-password"),
]


@pytest.mark.parametrize(("raw", "expected"), SIP_CREDENTIALS)
def test_sip_credentials(raw: str, expected: list[tuple[str, str]]) -> None:
    check(raw, expected)


# --- private keys ----------------------------------------------------------------------------------------

BODY = "MIIEowIBAAKCAQEAx1yZ3mQ9c0Jr+/Zt\nq8LwQm0K7yPzH4s2d1T6vBn0aXcR==\n"


def pem(label: str, body: str = BODY) -> str:
    return f"-----BEGIN {label}-----\n{body}-----END {label}-----"


@pytest.mark.parametrize(
    "label",
    [
        "RSA PRIVATE KEY",
        "EC PRIVATE KEY",
        "DSA PRIVATE KEY",
        "PRIVATE KEY",
        "ENCRYPTED PRIVATE KEY",
        "OPENSSH PRIVATE KEY",
    ],
)
def test_a_private_key_spans_from_begin_to_end(label: str) -> None:
    block = pem(label)
    raw = f"Here is the key from the MBG:\n\n```\n{block}\n```\nDid I do it right?"

    assert found(raw) == [(PEM, block)]


def test_an_encrypted_rsa_key_with_headers_is_one_finding() -> None:
    block = pem("RSA PRIVATE KEY", "Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,3F2A9C8B\n\n" + BODY)
    raw = f"key:\n{block}\nend"

    assert found(raw) == [(PEM, block)]


@pytest.mark.parametrize("label", ["CERTIFICATE", "PUBLIC KEY", "CERTIFICATE REQUEST"])
def test_certificates_and_public_keys_are_not_private_keys(label: str) -> None:
    assert found(pem(label)) == []


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----", id="empty-body"),
        pytest.param("-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----", id="ellipsis-body"),
        pytest.param(
            "-----BEGIN RSA PRIVATE KEY-----\n<your key here>\n-----END RSA PRIVATE KEY-----",
            id="placeholder-body",
        ),
        pytest.param(
            "Start with -----BEGIN RSA PRIVATE KEY----- and end with -----END RSA PRIVATE KEY-----.",
            id="armour-named-in-prose",
        ),
    ],
)
def test_armour_lines_without_a_key_between_them_are_no_private_key(raw: str) -> None:
    assert found(raw) == []


def test_an_unterminated_private_key_is_still_reported_from_its_begin_line() -> None:
    raw = "oops:\n-----BEGIN PRIVATE KEY-----\nMIIEowIBAAKCAQEAx1yZ\n\nthe rest got cut off"

    assert found(raw) == [(PEM, "-----BEGIN PRIVATE KEY-----\nMIIEowIBAAKCAQEAx1yZ")]


# --- API keys and tokens ---------------------------------------------------------------------------------

SLACK_HOOK = "https://hooks.slack.com/services/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"
TEAMS_HOOK = "https://acme.webhook.office.com/webhookb2/abc-def-123@456/IncomingWebhook/aabbccdd11223344/eeff"
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0"
    ".dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
)
SENDGRID = "SG.aBcDeFgHiJkLmNoPqRsTuV.aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789AbCdEfG"
HEX40 = "3f2a9c8b7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a"

KEYS = [
    pytest.param("aws AKIAZ7Q3LMN4PRST2UVW here", [(API, "AKIAZ7Q3LMN4PRST2UVW")], id="aws-access-key"),
    pytest.param(
        "gh ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789 ok",
        [(API, "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789")],
        id="github",
    ),
    pytest.param("glpat-AbCdEfGhIjKlMnOpQrSt12", [(API, "glpat-AbCdEfGhIjKlMnOpQrSt12")], id="gitlab"),
    pytest.param(
        "slack xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
        [(API, "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx")],
        id="slack-bot-token",
    ),
    pytest.param(f"hook {SLACK_HOOK} done", [(API, SLACK_HOOK)], id="slack-webhook"),
    pytest.param(f"Teams {TEAMS_HOOK}", [(API, TEAMS_HOOK)], id="teams-webhook"),
    pytest.param(
        "google AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvW ok",
        [(API, "AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvW")],
        id="google",
    ),
    pytest.param(
        "stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc ok", [(API, "sk_live_4eC39HqLyjWDarjtT1zdp7dc")], id="stripe"
    ),
    pytest.param(f"sendgrid {SENDGRID} ok", [(API, SENDGRID)], id="sendgrid"),
    pytest.param(f'api_key = "{HEX40}"', [(API, HEX40)], id="keyed-hex"),
    pytest.param(f"X-API-Key: {HEX40}", [(API, HEX40)], id="keyed-header"),
    pytest.param(
        "see https://api.acme-corp.com/v1/calls?token=a8F3kL9mQ2xZ7pR4tY6w for it",
        [(API, "https://api.acme-corp.com/v1/calls?token=a8F3kL9mQ2xZ7pR4tY6w")],
        id="url-token",
    ),
    pytest.param("AKIA1234", [], id="aws-too-short"),
    pytest.param("ghp_short", [], id="github-too-short"),
    pytest.param('api_key = "${API_KEY}"', [], id="keyed-placeholder"),
    pytest.param("api_key: <your api key>", [], id="keyed-angle-placeholder"),
    pytest.param('api_key = "your-api-key-here"', [], id="keyed-documentation-placeholder"),
    pytest.param('api_key = "0000000000000000"', [], id="keyed-zeros"),
    pytest.param("https://api.acme-corp.com/v1/calls?page=2&limit=50", [], id="url-without-secret"),
    pytest.param("https://docs.acme-corp.com/path?token=short", [], id="url-short-token"),
]


@pytest.mark.parametrize(("raw", "expected"), KEYS)
def test_api_keys(raw: str, expected: list[tuple[str, str]]) -> None:
    check(raw, expected)


TOKENS = [
    pytest.param(
        "Authorization: Bearer 8f3kL9mQ2xZ7pR4tY6wA1b2C3d4",
        [(BEARER, "8f3kL9mQ2xZ7pR4tY6wA1b2C3d4")],
        id="bearer",
    ),
    pytest.param(f"Authorization: Bearer {JWT}", [(BEARER, JWT)], id="bearer-jwt"),
    pytest.param(f"the cookie held {JWT}.", [(BEARER, JWT)], id="jwt"),
    pytest.param("Authorization: Bearer <token>", [], id="bearer-angle-placeholder"),
    pytest.param("Authorization: Bearer ${TOKEN}", [], id="bearer-variable"),
    pytest.param("Authorization: Bearer YOUR_TOKEN_HERE", [], id="bearer-documentation-placeholder"),
    pytest.param("The bearer token expired yesterday", [], id="bearer-prose"),
]


@pytest.mark.parametrize(("raw", "expected"), TOKENS)
def test_bearer_tokens(raw: str, expected: list[tuple[str, str]]) -> None:
    check(raw, expected)


# --- several items in one post ---------------------------------------------------------------------------


def test_a_post_with_several_items_reports_each_once_in_order() -> None:
    raw = (
        "Hi all, our MBG won't register. Details:\n"
        "```\n"
        "[trunk1]\ntype=peer\nhost=sip.provider.com\nsecret=Pa55word99\n"
        "```\n"
        "The PBX is at 192.168.1.20, call me at 613-722-4410 or mail jane.doe@acme-corp.com.\n"
    )

    assert found(raw) == [
        (SIP, "Pa55word99"),
        (IP, "192.168.1.20"),
        (PHONE, "613-722-4410"),
        (EMAIL, "jane.doe@acme-corp.com"),
    ]


def test_a_password_in_a_sip_uri_is_one_credential_not_also_an_email() -> None:
    raw = "sip:alice:S3cret99@pbx.acme-corp.com"

    assert found(raw) == [(SIP, "S3cret99")]


def test_every_type_has_its_default_severity() -> None:
    raw = "card 4111 1111 1111 1111, mail jane.doe@acme-corp.com, host 24.114.9.30"

    assert [(f.type, f.severity) for f in SCANNER.scan(raw)] == [
        (CC, "critical"),
        (EMAIL, "high"),
        (IP, "medium"),
    ]
