#!/usr/bin/env python3
"""Builds the tokenizer test corpus and tiktoken's token ids for it, one JSON object per line:
{"name", "text", "cl100k_base": [ids], "o200k_base": [ids]} plus "<enc>_special" (ids with special
tokens allowed) for texts that contain special-token text.

The corpus is deterministic (seeded) and covers many scripts, emoji sequences, code, whitespace and
newline runs, contractions, long repeats, unusual and invalid Unicode, 100 KB documents and random
mixtures of every character class the pre-tokenisation patterns distinguish.

Usage: TIKTOKEN_CACHE_DIR=<vocabulary folder> reference.py OUT.jsonl [--texts-only]
"""
import json
import random
import sys

SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "Grüße aus Köln! Die Straße ist naß; Äpfel, Öl und Übermut.",
    "L'été dernier, j'ai mangé des crêpes à Paris — c'était délicieux.",
    "¿Dónde está la biblioteca? ¡Mañana iré a Cádiz con mi niño!",
    "Zażółć gęślą jaźń. Pchnąć w tę łódź jeża lub ośm skrzyń fig.",
    "İstanbul'da ılık bir akşam; şoför ığdır'a gidiyor.",
    "Ξεσκεπάζω τὴν ψυχοφθόρα βδελυγμία. Καλημέρα κόσμε!",
    "Съешь же ещё этих мягких французских булок, да выпей чаю.",
    "Чуєш їх, доцю, га? Кумедна ж ти, прощайся без ґольфів!",
    "مرحبا بالعالم! هذا نص عربي مع أرقام ١٢٣٤٥ وعلامات ترقيم.",
    "שלום עולם! זהו טקסט בעברית עם ניקוד: בְּרֵאשִׁית בָּרָא.",
    "سلام دنیا! این یک متن فارسی است با اعداد ۱۲۳.",
    "नमस्ते दुनिया! यह हिंदी में एक वाक्य है। क्षत्रिय ज्ञान",
    "আমি বাংলায় গান গাই। ক্ষ্ম ত্র্য",
    "வணக்கம் உலகம்! தமிழ் எழுத்துக்கள் க்ஷ ஸ்ரீ",
    "สวัสดีชาวโลก ภาษาไทยไม่มีช่องว่างระหว่างคำ",
    "ສະບາຍດີ ພາສາລາວ",
    "សួស្តីពិភពលោក ភាសាខ្មែរ",
    "မင်္ဂလာပါ ကမ္ဘာလောက",
    "გამარჯობა მსოფლიო! ქართული დამწერლობა",
    "Բարև աշխարհ! Հայերեն տեքստ",
    "ሰላም ልዑል! አማርኛ ፊደል",
    "你好，世界！这是一个中文句子，包含标点符号。",
    "繁體中文：臺灣的學生們正在學習電腦程式設計。",
    "こんにちは世界！ひらがな、カタカナ、漢字が混ざっています。ｶﾀｶﾅ",
    "안녕하세요 세계! 한국어 문장입니다. 각 (조합형)",
    "Tiếng Việt có nhiều dấu: Người ướt đẫm, ổn định, chữ quốc ngữ.",
    "Ẹ kú àárọ̀! Báwo ni ọjọ́ rẹ ṣe ń lọ?",
    "Монгол хэл ᠮᠣᠩᠭᠣᠯ ᠪᠢᠴᠢᠭ",
    "བཀྲ་ཤིས་བདེ་ལེགས། བོད་ཡིག",
    "ආයුබෝවන් ලෝකය",
    "ᏣᎳᎩ ᎦᏬᏂᎯᏍᏗ ᏣᎳᎩ ᎧᏃᎮᏛ",
    "ᐃᓄᒃᑎᑐᑦ ᑐᓴᐅᓯᖅ",
    "∀x∈ℝ: x² ≥ 0; ∑ᵢ₌₁ⁿ i = n(n+1)/2; ∫₀^∞ e^{-x} dx = 1 ≈ 1.000",
    "𝐀𝐁𝐂 𝒳𝒴𝒵 𝔄𝔅 𝟘𝟙𝟚 ℂℍℕℙℚℝℤ Ⅻ ⅷ ① ½ ¾ ⁵",
    "ǅungla ǈudi ǋeko: titlecase digraphs. ʰʲʷ modifier letters. ſtraße",
    "Ｆｕｌｌｗｉｄｔｈ　ｌｅｔｔｅｒｓ　ａｎｄ　ｄｉｇｉｔｓ　１２３４５",
    "Price: $1,234.56 (€1.234,56) — 50% off!! Call +1-800-555-0199 #deal @shop",
    "Emails: jane.doe+test@example.com, URLs: https://example.com/a/b?c=1&d=2#frag",
    "Dates 2026-11-25T13:45:00Z, versions v1.2.3-beta+build.456, IPs 192.168.0.1 and ::1",
]

EMOJI = [
    "👨‍👩‍👧‍👦 family", "👩🏽‍💻 coder", "🏳️‍🌈 flag", "🇺🇸🇯🇵🇩🇪🇧🇷 flags", "👍🏻👍🏼👍🏽👍🏾👍🏿",
    "❤️ vs ❤ vs ♥️", "1️⃣ 2️⃣ #️⃣ *️⃣ keycaps", "🧑🏿‍🤝‍🧑🏻 holding hands", "🏴󠁧󠁢󠁳󠁣󠁴󠁿 Scotland",
    "😀😃😄😁😆😅🤣😂🙂🙃", "🫠🫢🫣🫡🫥 newer emoji", "©️®️™️ symbols", "👁️‍🗨️ eye in bubble",
    "🧔‍♀️🧑‍🦰🧑‍🦱🧑‍🦳🧑‍🦲", "Text with emoji 🚀 in the middle and at the end 🎉",
    "🤷‍♂️🤦‍♀️🙋🏾‍♂️", "⌚⌛⏰ ☀️☁️☂️", "🐈‍⬛ black cat", "🐻‍❄️ polar bear", "🇦🇧🇨 invalid flag pair",
]

CODE = [
    'func greet(_ name: String) -> String {\n    return "Hello, \\(name)!"\n}\n',
    "def fib(n):\n\tif n < 2:\n\t\treturn n\n\treturn fib(n - 1) + fib(n - 2)\n",
    "const xs = [1, 2, 3].map((x) => x ** 2).filter(x => x % 2 !== 0);\nconsole.log(`${xs}`);",
    "fn main() {\n    let v: Vec<u32> = (0..10).collect();\n    println!(\"{:?}\", v);\n}",
    "#include <stdio.h>\nint main(void) { printf(\"%d\\n\", 42); return 0; }\r\n",
    "SELECT u.id, COUNT(*) AS n FROM users u JOIN orders o ON o.user_id = u.id WHERE o.total > 100 GROUP BY u.id;",
    '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>x</title></head>\n<body><p class="a">Hi</p></body></html>',
    '{"name": "sluice", "version": "1.0.0", "tags": ["a", "b"], "nested": {"x": null, "y": true, "z": 1.5e-3}}',
    "server:\n  port: 8080\n  hosts:\n    - alpha\n    - beta\n  # comment\n  enabled: yes\n",
    "#!/usr/bin/env bash\nset -euo pipefail\nfor f in *.txt; do echo \"$f\" | tr a-z A-Z; done 2>/dev/null\n",
    r"^(?:[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*)@(?:[a-z0-9-]+\.)+[a-z]{2,}$",
    "function a(b){return b&&b.c?b.c.d||[]:void 0}var e=a({c:{d:[1,2]}});if(e.length>1){e.push(3)}",
    "    indented with spaces\n\tindented with a tab\n  \t mixed\n\n\n\nmany blank lines\n",
    "// TODO: fix this\n/* block\n * comment */\nlet x = 0x1F_FF_FF; let y = 1_000_000; let z = 3.14e-10;",
    "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n-old line\n+new line\n context\n",
    "    def method(self) -> None:\n        '''Docstring with 'quotes' and \"double\"'''\n        pass\n",
    "| col a | col b |\n|-------|------:|\n| 1     |  2.50 |\n| **x** | `y`   |\n",
    "```python\nprint('hi')\n```\n\n> quote\n\n- item 1\n- item 2\n  - nested\n1. one\n2. two\n",
    "path/to/file.swift:12:5: error: cannot find 'x' in scope\n    x += 1\n    ^\n",
    "a//b///c////d /// //\n//\n\n/ / /\r\n//\r\n",
]

WHITESPACE = [
    " ", "  ", "   leading", "trailing   ", "\n", "\n\n", "\r\n", "\r\n\r\n", "\r", "\t", "\t\t\tx", "x\t\t\t",
    "a \n b", "a  \n  b", "line1\n \nline3", "  \n  \n  ", " \t \n \t ", "\u00a0non-breaking\u00a0space",
    "ideographic\u3000space\u3000\u3000", "em\u2003space\u2002en\u2009thin\u200ahair", "line\u2028separator\u2029para",
    "next\u0085line", "zero\u200bwidth\u200cjoiners\u200d", "mongolian\u180evowel", "\u000b\u000cvertical and form feed",
    "words   with    irregular     spacing", "\n\n\n\n\nx", "x\n\n\n\n\n", "   \r\n   \r\n   ", " !", "  !", " \n!",
]

CONTRACTIONS = [
    "I'm sure you're right, we've seen it, they'll come, she'd know, it's John's.",
    "I'M SURE YOU'RE RIGHT, WE'VE SEEN IT, THEY'LL COME, SHE'D KNOW, IT'S JOHN'S.",
    "I’m using curly apostrophes: don’t, won’t, it’s.", "'s 's 'S 'd 'm 't 'll 'LL 'Ll 've 'VE 're 'Re",
    "'ſ long s contraction, 'ſtraße, ſ'ſ", "''s '''ll 'x 'sss 'lll 'very 'real", "rock'n'roll o'clock y'all ma'am",
    "don't", "DON'T", "'", "''", "'s", "a's", "1's", "!'s", " 's", "\n's", "é's", "Éʼs", "ǅ's",
]

LONG_REPEATS = [
    ("a*50000", "a" * 50000), ("spaces*10000", " " * 10000), ("bang*10000", "!" * 10000),
    ("digits*10001", "1" * 10001), ("emoji*3000", "😀" * 3000), ("ab*20000", "ab" * 20000),
    ("newlines*5000", "\n" * 5000), ("crlf*3000", "\r\n" * 3000), ("R*20000", "ℝ" * 20000),
    ("hanzi*10000", "中" * 10000), ("A*30000", "A" * 30000), ("space-a*20000", " a" * 20000),
    ("combining*5000", "e" + "\u0301" * 5000), ("tabs*5000", "\t" * 5000), ("dots*20000", "." * 20000),
    ("equals*8000", "=" * 8000), ("aA*10000", "aA" * 10000), ("zwj-family*500", "👨‍👩‍👧‍👦" * 500),
]

UNUSUAL = [
    "\ufeffBOM at start", "noncharacters \ufffe \uffff \ufdd0 \U0010ffff", "private use \ue000\uf8ff\U000f0000",
    "replacement \ufffd\ufffd char", "controls \x00\x01\x02\x1b[31mred\x1b[0m\x7f", "C1 \x80\x85\x9f",
    "lone combining \u0301\u0302 at start", "Z̸̢̧̛̖̗̘̙̜̝̞̟̠̣̤̥̦̩̪̫̬̭̮̯̰̱̲̳̹̺̻̼͇͈͉͍͎̀́̂̃̄̅̆̇̈̉̊̋̌̍̎̏̐̑̒̓̔̽̾̿̀́͂̓̈́͆͊͋͌̕̚ͅa̶l̷g̸o̵",
    "bidi \u202eevil\u202c \u2066isolate\u2069 \u200fRLM\u200e", "variation selectors \u2764\ufe0f \u2764\ufe0e \U000e0100",
    "tags \U000e0061\U000e0062", "surrogate-like text \\ud800 \\udfff (escaped, not real)",
    "deseret 𐐀𐐨 gothic 𐌰𐌱 cuneiform 𒀀𒀁 egyptian 𓀀𓀁", "musical 𝄞𝄢 domino 🁣 mahjong 🀄",
    "Kelvin K vs K, Angstrom Å vs Å, ohm Ω vs Ω", "İ ı ǰ ẞ ß ŉ ﬀ ﬁ ﬃ ﬆ",
]

INVALID_UTF8 = [
    b"valid \xff\xfe invalid", b"truncated \xe2\x82", b"overlong \xc0\xaf", b"surrogate \xed\xa0\x80",
    b"\x80\x80\x80 continuation only", b"mixed \xf0\x9f\x98 emoji cut", b"\xf4\x90\x80\x80 beyond U+10FFFF",
]

SPECIAL = [
    "<|endoftext|>", "before <|endoftext|> after", "<|fim_prefix|>a<|fim_middle|>b<|fim_suffix|>c",
    "<|endofprompt|>\n<|endoftext|><|endoftext|>", "<|not_special|> <|endoftext", "x<|endoftext|>  ",
]

POOLS = {
    "lower": "abcdefghijklmnopqrstuvwxyzàéîõüßçøñ",
    "upper": "ABCDEFGHIJKLMNOPQRSTUVWXYZÀÉÎÕÜÇØÑİ",
    "digit": "0123456789٠١٢३४५๖७",
    "otherNumber": "²³½¾①②Ⅻⅷ⁵₃𝟘",
    "punct": "!\"#$%&()*+,-.:;<=>?@[\\]^_`{|}~¡¿«»—–…‘’“”„•·§¶†‡©®™°±×÷€£¥",
    "apostrophe": "'''",
    "contractionLetter": "sStTdDmMlLvVeErRſ",
    "space": "      ",
    "unicodeSpace": "\u00a0\u2003\u3000\u0085\u2028\u000b\u000c",
    "lineBreak": "\r\n\n",
    "tab": "\t",
    "slash": "/",
    "mark": "\u0300\u0301\u0308\u0327\u064b\u0902\u093c\u094d\u0e31\u20dd\u0488",
    "greek": "αβγδΑΒΓΔάέ",
    "cyrillic": "абвгдАБВГДё",
    "cjk": "中文字漢語",
    "kana": "ひらがなカタカナー",
    "hangul": "한국어글",
    "arabic": "عربيةمرحبا",
    "devanagari": "हिंदीनमस्ते",
    "thai": "ภาษาไทย",
    "titlecase": "ǅǈǋǲᾈᾉ",
    "modifier": "ʰʲʷˠˤᵃᵇ々ー",
    "otherLetter": "ªºƻǀ",
    "emoji": "😀🎉🚀❤👍",
    "emojiJoin": "\u200d\ufe0f\U0001f3fb\U0001f3ff",
    "math": "𝐀𝐁𝒳𝔄ℝℂ",
    "fullwidth": "ＡＢａｂ１２！？",
    "format": "\u200b\u200c\u200e\u200f\u00ad\ufeff",
    "control": "\x00\x01\x1b\x7f",
}


def fuzz(random_source, count, max_length):
    texts = []
    names = sorted(POOLS)
    for index in range(count):
        length = random_source.randint(1, max_length)
        favourites = random_source.sample(names, random_source.randint(1, 6))
        pieces = []
        for _ in range(length):
            pool = POOLS[random_source.choice(favourites)]
            pieces.append(random_source.choice(pool))
        texts.append(("fuzz-%03d" % index, "".join(pieces)))
    return texts


def random_code_points(random_source, count):
    texts = []
    for index in range(count):
        chars = []
        for _ in range(random_source.randint(1, 40)):
            plane = random_source.choice([0, 0, 0, 1, 2, 14])
            while True:
                point = plane * 0x10000 + random_source.randrange(0x10000)
                if not 0xD800 <= point <= 0xDFFF:
                    break
            chars.append(chr(point))
        texts.append(("codepoints-%03d" % index, "".join(chars)))
    return texts


def documents(random_source):
    prose = " ".join(SENTENCES)
    code = "\n".join(CODE)
    mixed = "\n\n".join(SENTENCES + EMOJI + CODE + WHITESPACE + CONTRACTIONS)
    docs = []
    for name, seed in (("prose", prose), ("code", code), ("mixed", mixed)):
        text = ""
        while len(text.encode("utf-8")) < 100_000:
            text += seed + "\n"
        docs.append(("doc-100k-" + name, text))
    shuffled = []
    while sum(len(s.encode("utf-8")) for s in shuffled) < 100_000:
        shuffled.append(random_source.choice(SENTENCES + CODE + EMOJI))
    docs.append(("doc-100k-shuffled", " ".join(shuffled)))
    return docs


def corpus():
    random_source = random.Random(20261125)
    texts = []
    texts += [("sentence-%02d" % i, s) for i, s in enumerate(SENTENCES)]
    texts += [("sentence-pair-%02d" % i, SENTENCES[i] + "\n" + SENTENCES[-1 - i]) for i in range(len(SENTENCES))]
    texts += [("emoji-%02d" % i, s) for i, s in enumerate(EMOJI)]
    texts += [("code-%02d" % i, s) for i, s in enumerate(CODE)]
    texts += [("whitespace-%02d" % i, s) for i, s in enumerate(WHITESPACE)]
    texts += [("contraction-%02d" % i, s) for i, s in enumerate(CONTRACTIONS)]
    texts += [("repeat-" + name, s) for name, s in LONG_REPEATS]
    texts += [("unusual-%02d" % i, s) for i, s in enumerate(UNUSUAL)]
    texts += [("invalid-utf8-%02d" % i, b.decode("utf-8", "replace")) for i, b in enumerate(INVALID_UTF8)]
    texts += [("special-%02d" % i, s) for i, s in enumerate(SPECIAL)]
    texts += documents(random_source)
    texts += fuzz(random_source, 360, 80)
    texts += random_code_points(random_source, 40)
    return texts


def chat_conversations():
    """Conversations for the chat-prompt count, from the corpus's own texts."""
    random_source = random.Random(7)
    pool = SENTENCES + EMOJI + CODE + CONTRACTIONS
    conversations = []
    for index in range(30):
        messages = []
        if index % 3 == 0:
            messages.append({"role": "system", "content": random_source.choice(pool)})
        for turn in range(random_source.randint(1, 6)):
            messages.append({"role": "user" if turn % 2 == 0 else "assistant", "content": random_source.choice(pool)})
        conversations.append(messages)
    return conversations


def cookbook_count(encoding, messages):
    """num_tokens_from_messages from the OpenAI cookbook (gpt-3.5-turbo-0613 and later, gpt-4, gpt-4o)."""
    tokens_per_message = 3
    total = 0
    for message in messages:
        total += tokens_per_message
        for value in message.values():
            total += len(encoding.encode(value))
    return total + 3


def main():
    out = sys.argv[1]
    texts_only = "--texts-only" in sys.argv
    encodings = []
    if not texts_only:
        import tiktoken
        encodings = [tiktoken.get_encoding(name) for name in ("cl100k_base", "o200k_base")]
    with open(out, "w", encoding="utf-8") as handle:
        for name, text in corpus():
            record = {"name": name, "text": text}
            for encoding in encodings:
                record[encoding.name] = encoding.encode_ordinary(text)
                if "<|" in text:
                    record[encoding.name + "_special"] = encoding.encode(text, allowed_special="all")
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    if not texts_only:
        with open(out.replace(".jsonl", "") + "-chat.jsonl", "w", encoding="utf-8") as handle:
            for index, messages in enumerate(chat_conversations()):
                record = {"name": "chat-%02d" % index, "messages": messages}
                for encoding in encodings:
                    record[encoding.name] = cookbook_count(encoding, messages)
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    print(len(corpus()), "texts written to", out, file=sys.stderr)


if __name__ == "__main__":
    main()
