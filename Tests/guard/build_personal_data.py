"""Writes personal-data.jsonl: a labelled set for `sluice bench personal-data` and PersonalDataSetTests.

Each line is {"text": ..., "details": [{"kind": ..., "text": ...}], "category": ...}: the personal details a
message holds, exactly as written in it (kinds: email, phone, card, iban, ssn), and none for the numbers that only
look like them. Valid card numbers and IBANs are made with their checksums; the rest is written out by hand in the
ways people write them. Run again after changing it: `python3 Tests/guard/build_personal_data.py` (fixed seed)."""
import json
import os
import random

random.seed(7)


def luhn_complete(prefix, length):
    digits = [int(c) for c in prefix] + [random.randint(0, 9) for _ in range(length - len(prefix) - 1)]
    for check in range(10):
        candidate = digits + [check]
        total = 0
        for i, d in enumerate(reversed(candidate)):
            if i % 2 == 1:
                d *= 2
                if d > 9:
                    d -= 9
            total += d
        if total % 10 == 0:
            return "".join(map(str, candidate))


def luhn_invalid(number):
    last = (int(number[-1]) + 1) % 10
    return number[:-1] + str(last)


def grouped(number, sizes, separator):
    parts, start = [], 0
    for size in sizes:
        parts.append(number[start:start + size])
        start += size
    if start < len(number):
        parts.append(number[start:])
    return separator.join(parts)


def iban(country, bban):
    rearranged = bban + country + "00"
    value = int("".join(str(int(c, 36)) for c in rearranged))
    return f"{country}{98 - value % 97:02d}{bban}"


def digits(n):
    return "".join(str(random.randint(0, 9)) for _ in range(n))


rows = []


def add(text, details, category):
    for _, detail in details:
        assert detail in text, (detail, text)
    rows.append({"text": text, "details": [{"kind": k, "text": t} for k, t in details], "category": category})


card_templates = [
    "Please charge {} for the renewal.", "My card is {}, expiry 09/28.", "card: {}", "Use {} (the company card).",
    "Can you check why {} was declined?", "Number {} — CVV on the back.",
]
for prefix, length, sizes in [("4", 16, [4, 4, 4, 4]), ("51", 16, [4, 4, 4, 4]), ("55", 16, [4, 4, 4, 4]),
                              ("2221", 16, [4, 4, 4, 4]), ("34", 15, [4, 6, 5]), ("37", 15, [4, 6, 5]),
                              ("6011", 16, [4, 4, 4, 4]), ("35", 16, [4, 4, 4, 4]), ("36", 14, [4, 6, 4]),
                              ("62", 16, [4, 4, 4, 4]), ("4", 13, [13])]:
    number = luhn_complete(prefix, length)
    for separator in [" ", "-", ""]:
        written = grouped(number, sizes, separator) if separator else number
        add(random.choice(card_templates).format(written), [("card", written)], "card")
for _ in range(6):
    bad = luhn_invalid(luhn_complete("4", 16))
    add(f"Tracking number {grouped(bad, [4, 4, 4, 4], ' ')} is stuck.", [], "luhn-invalid")

iban_templates = ["Wire it to {} please.", "IBAN: {}", "Refund to {} (my savings).", "Kontonummer {} bei der Sparkasse."]
for country, bban in [("DE", "370400440532013000"), ("GB", "WEST12345698765432"), ("FR", "20041010050500013M02606"),
                      ("NL", "ABNA0417164300"), ("ES", "21000418450200051332"), ("IT", "X0542811101000000123456"),
                      ("CH", "0076201162385295"), ("BE", "539007547034")]:
    number = iban(country, bban)
    add(random.choice(iban_templates).format(number), [("iban", number)], "iban")
    spaced = " ".join(number[i:i + 4] for i in range(0, len(number), 4))
    add(random.choice(iban_templates).format(spaced), [("iban", spaced)], "iban")
    broken = number[:-1] + ("1" if number[-1] != "1" else "2")
    add(f"Reference {broken} is not an account.", [], "iban-invalid")

for area, group, serial in [("123", "45", "6789"), ("078", "05", "1120"), ("219", "09", "9999"), ("536", "22", "1045")]:
    ssn = f"{area}-{group}-{serial}"
    add(random.choice(["SSN {} for the W-2.", "Her social is {}.", "ssn: {}"]).format(ssn), [("ssn", ssn)], "ssn")
for invalid in ["000-12-3456", "666-45-1234", "912-34-5678", "123-00-4567", "123-45-0000"]:
    add(f"Form field example: {invalid}", [], "ssn-invalid")

for phone in ["+1 (415) 555-0132", "+44 20 7946 0958", "+49 30 901820", "+33 1 42 68 53 00", "+81 3-1234-5678",
              "+61 2 9374 4000", "+4917612345678", "(212) 555-0198", "415-555-0132", "415.555.0132", "1-800-555-0199",
              "020 7946 0958", "030 901820 12", "06 12 34 56 78", "0176 12345678", "0044 20 7946 0958"]:
    add(random.choice(["Call me on {} after six.", "phone: {}", "Reach the office at {}.", "Tel. {}"]).format(phone),
        [("phone", phone)], "phone")
# Written as numbers people also use for other things: not found, by design (a miss, counted as one).
for phone in ["4155550132", "call 555 0132"]:
    add(f"{phone}", [("phone", phone.split()[-1] if " " in phone else phone)], "phone-bare")

for email in ["ann.lee@example.com", "first.last+tag@mail.example.co.uk", "x_y-z@sub.domain.io", "o'brien@example.ie",
              "jörg@example.de", "ops@localhost.localdomain", "A.B@EXAMPLE.ORG"]:
    add(random.choice(["Send it to {}.", "email: {}", "({})", "cc {} and me"]).format(email), [("email", email)], "email")

add("Ann (ann@example.com, +49 30 1234567) pays with 4242 4242 4242 4242; refund to DE89 3704 0044 0532 0130 00.",
    [("email", "ann@example.com"), ("phone", "+49 30 1234567"), ("card", "4242 4242 4242 4242"),
     ("iban", "DE89 3704 0044 0532 0130 00")], "mixed")

negatives = [
    "The meeting is on 2024-01-15 at 10:30.", "Version 1.2.3 fixed it; 10.0.0.1 is the gateway.", "pi = 3.14159265358979",
    "Order 5551234567 shipped.", "We have 1 000 000 users and 250 000 paying ones.", "ISBN 978-3-16-148410-0",
    "UUID 123e4567-e89b-12d3-a456-426614174000", "The hash is 9f86d081884c7d659a2feaa0c55ad015.", "Invoice #2024-000123",
    "Total: $1,234.56 (incl. 19% VAT)", "Timestamp 1700000000123", "Use port 8080 and 443.", "2^64 = 18446744073709551616",
    "See RFC 7231 section 6.5.1.", "Coordinates 52.5200, 13.4050", "Call stack at 0x7ffeefbff5c8", "a@b and @handle",
    "user@localhost", "The range 100-200-300 is fine.", "Room 12-34-5678 in building B", "git sha 4b825dc642cb6eb9a060e54bf8d69288fbee4904",
    "Matrix [1, 2; 3, 4] and [EMAIL_1] as a template field", "Dates: 01.02.2024 10 people", "Score 3-2-1 then 14-07-2023",
    "Flight LH 400 at 13:05, seat 32K", "Temperature -12.5 to +4.0 degrees", "The year 1999 and 2000 and 2001",
    "ticket #123-456-7890a", "Part no. 4000-1234-5678", "Serial 12345678901234 on the label",
]
for text in negatives:
    add(text, [], "negative")

path = os.path.join(os.path.dirname(__file__), "personal-data.jsonl")
with open(path, "w") as f:
    for row in rows:
        f.write(json.dumps(row, ensure_ascii=False) + "\n")
print(f"{len(rows)} lines written to {path}")
