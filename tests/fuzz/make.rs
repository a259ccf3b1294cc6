//! Input generation for the fuzzer: a small seeded random source, edge values, byte-level havoc,
//! and tree mutations of JSON and TOML documents (written back by hand, so that numbers beyond
//! 64 bits, duplicate keys and inline TOML tables can be produced too).

/// SplitMix64: tiny, fast, and the same on every machine.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The random source of one input: depends on nothing but the seed, the target and the index.
    pub fn for_input(seed: u64, target: &str, index: u64) -> Rng {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in target.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
        let mut r = Rng(seed ^ h.rotate_left(17) ^ index.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        r.next_u64();
        r
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// True `percent` times in a hundred.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Numbers at and around the limits of the types the decoders use (u8, u32, i64, u64, f64).
pub const NUMBERS: &[&str] = &[
    "0",
    "1",
    "-1",
    "2",
    "3",
    "5",
    "6",
    "7",
    "15",
    "30",
    "99",
    "100",
    "101",
    "255",
    "256",
    "999",
    "1000",
    "1440",
    "1441",
    "65535",
    "65536",
    "71582788",
    "71582789",
    "2147483647",
    "2147483648",
    "-2147483648",
    "4294967295",
    "4294967296",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "-9223372036854775809",
    "18446744073709551615",
    "18446744073709551616",
    "340282366920938463463374607431768211456",
    "1e3",
    "1.5",
    "-0",
    "0.0",
    "1e308",
    "1e309",
    "-1e309",
    "5e-324",
    "0e0",
    "00",
    "01",
    "+1",
];

/// Strings the hall's decoders treat specially, and strings that break naive code.
pub const STRINGS: &[&str] = &[
    "",
    " ",
    "a",
    "\n",
    "a\nFAKE",
    "\r\n",
    "\t",
    "\u{0}",
    "\u{7f}",
    "\u{1b}[31m",
    "\u{202e}",
    "\u{2028}",
    "\u{feff}",
    "\u{fffd}",
    "中",
    "号",
    "楚天视讯",
    "１２３",
    "٣",
    "𝟘",
    "A001",
    "a007",
    "Z999999",
    "A0",
    "A000",
    "A1000000",
    "A-1",
    " A001 ",
    "B1000",
    "中1",
    "AA1",
    "account",
    "pay",
    "repair",
    "stb",
    "consult",
    "complaint",
    "nope",
    "x",
    "13812345678",
    "+8613812345678",
    "0086-138 1234 5678",
    "+86-13812345678",
    "1381234567",
    "12812345678",
    "027-87654321",
    "010-1234567",
    "0713-7012345",
    "02",
    "0",
    "1",
    "00000000000",
    "01012345678",
    "0101234567",
    "+86",
    "0086",
    "-",
    "--",
    "+",
    "８６",
    "138 1234 5678",
    "08:30",
    "17:00",
    "17:30",
    "00:00",
    "23:59",
    "24:00",
    "8:5",
    "12:60",
    "-1:00",
    "08:30:00",
    "Asia/Shanghai",
    "UTC",
    "Etc/GMT+12",
    "Etc/GMT-14",
    "Pacific/Kiritimati",
    "Pacific/Apia",
    "America/St_Johns",
    "Asia/Kathmandu",
    "Mars/Base",
    "asia/shanghai",
    "EST5EDT",
    "2026-11-25",
    "-262143-01-01",
    "+262142-12-31",
    "262143-01-01",
    "0000-01-01",
    "1969-12-31",
    "1970-01-01",
    "9999-12-31",
    "10000-01-01",
    "2024-02-29",
    "2023-02-29",
    "2026-13-01",
    "day",
    "week",
    "month",
    "year",
    "json",
    "csv",
    "pending",
    "contacted",
    "resolved",
    "ready",
    "paper_low",
    "no_answer",
    "staff",
    "manager",
    "kiosk",
    "display",
    "propose",
    "start",
    "tcp://",
    "http://",
    "tcp://a:1",
    "http://127.0.0.1:9/x",
    "tcp://[::1]:80",
    "A",
    "Z",
    "a",
    "\\",
    "\"",
    "'",
    "{",
    "}",
    "[",
    "]",
    "=",
    "%",
    "%00",
    "%ZZ",
    "&",
    "?",
    "/",
    "..",
    "../..",
];

/// Keys the decoders do not know, beside those found in the seeds.
pub const EXTRA_KEYS: &[&str] = &["", "x", "__proto__", "Login", "login ", "中"];

/// A string of a few edge pieces, sometimes very long.
pub fn edge_string(rng: &mut Rng) -> String {
    match rng.below(20) {
        // Long strings: one time in sixty, over a kilobyte one time in two hundred.
        0 if rng.chance(30) => {
            let unit = rng.pick(STRINGS).to_string();
            let n = [2, 33, 65, 257, 1025, 5000][rng.below(6)];
            unit.repeat(n.min(20_000 / unit.len().max(1)))
        }
        1..=4 => {
            let mut s = String::new();
            for _ in 0..rng.below(4) + 2 {
                s.push_str(STRINGS[rng.below(STRINGS.len())]);
            }
            s
        }
        5 => (0..rng.below(12))
            .map(|_| char::from_u32(rng.next_u64() as u32 % 0x3_0000).unwrap_or('?'))
            .collect(),
        _ => rng.pick(STRINGS).to_string(),
    }
}

/// A number as text, edge or random.
pub fn edge_number(rng: &mut Rng) -> String {
    match rng.below(6) {
        0 => (rng.next_u64() as i64).to_string(),
        1 => (rng.next_u64() % 2000).to_string(),
        2 => format!("{}", f64::from_bits(rng.next_u64()))
            .replace("NaN", "0")
            .replace("inf", "1e999"),
        _ => rng.pick(NUMBERS).to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// Byte-level havoc

const BYTES: &[u8] = b"\0\x01\x7f\x80\xbf\xc0\xe4\xff\"\\{}[],:=\n\r\t #-+.0123456789eE%&?/'";

/// One to eight random byte edits of `data`; `dict` holds tokens to insert; `other` a second
/// input to splice from.
pub fn havoc(rng: &mut Rng, data: &mut Vec<u8>, dict: &[String], other: &[u8]) {
    for _ in 0..rng.below(8) + 1 {
        let len = data.len();
        match rng.below(11) {
            0 if len > 0 => {
                let i = rng.below(len);
                data[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                data[i] = *rng.pick(BYTES);
            }
            2 if len > 0 => {
                let i = rng.below(len);
                let n = rng.below((len - i).min(64)) + 1;
                data.drain(i..i + n);
            }
            3 => {
                let i = rng.below(len + 1);
                let n = rng.below(8) + 1;
                let bytes: Vec<u8> = (0..n).map(|_| rng.next_u64() as u8).collect();
                data.splice(i..i, bytes);
            }
            4 | 5 if !dict.is_empty() => {
                let i = rng.below(len + 1);
                let tok = rng.pick(dict).clone();
                data.splice(i..i, tok.into_bytes());
            }
            6 if len > 0 => {
                let i = rng.below(len);
                let n = rng.below((len - i).min(128)) + 1;
                let chunk = data[i..i + n].to_vec();
                let at = rng.below(len + 1);
                data.splice(at..at, chunk);
            }
            7 if !other.is_empty() => {
                let i = rng.below(other.len());
                let n = rng.below((other.len() - i).min(256)) + 1;
                let at = rng.below(len + 1);
                let end = (at + rng.below(64)).min(len);
                data.splice(at..end, other[i..i + n].iter().copied());
            }
            8 if len > 0 => {
                // A run of digits becomes an edge number.
                let i = rng.below(len);
                if let Some(start) = data[i..].iter().position(u8::is_ascii_digit) {
                    let s = i + start;
                    let e = s + data[s..].iter().take_while(|b| b.is_ascii_digit()).count();
                    let n = edge_number(rng);
                    data.splice(s..e, n.into_bytes());
                }
            }
            9 if len > 0 => {
                let i = rng.below(len);
                data.truncate(i);
            }
            _ => {
                let i = rng.below(len + 1);
                let s = edge_string(rng);
                data.splice(i..i, s.into_bytes());
            }
        }
    }
    data.truncate(70_000);
}

/// Random bytes, from raw noise to token soup.
pub fn noise(rng: &mut Rng, dict: &[String]) -> Vec<u8> {
    let n = rng.below(64);
    if rng.chance(50) {
        (0..n).map(|_| rng.next_u64() as u8).collect()
    } else {
        let mut v = Vec::new();
        for _ in 0..n / 4 + 1 {
            if !dict.is_empty() && rng.chance(60) {
                v.extend_from_slice(rng.pick(dict).as_bytes());
            } else {
                v.push(*rng.pick(BYTES));
            }
        }
        v
    }
}

// ---------------------------------------------------------------------------------------------
// Trees: JSON and TOML documents as one shape

#[derive(Clone, Debug)]
pub enum Tree {
    Null,
    Bool(bool),
    /// The number's text as written (so it may be out of every range).
    Num(String),
    Str(String),
    Arr(Vec<Tree>),
    Obj(Vec<(String, Tree)>),
}

impl Tree {
    pub fn from_json(v: &serde_json::Value) -> Tree {
        use serde_json::Value as V;
        match v {
            V::Null => Tree::Null,
            V::Bool(b) => Tree::Bool(*b),
            V::Number(n) => Tree::Num(n.to_string()),
            V::String(s) => Tree::Str(s.clone()),
            V::Array(a) => Tree::Arr(a.iter().map(Tree::from_json).collect()),
            V::Object(o) => Tree::Obj(
                o.iter()
                    .map(|(k, v)| (k.clone(), Tree::from_json(v)))
                    .collect(),
            ),
        }
    }

    pub fn from_toml(v: &toml::Value) -> Tree {
        use toml::Value as V;
        match v {
            V::String(s) => Tree::Str(s.clone()),
            V::Integer(i) => Tree::Num(i.to_string()),
            V::Float(f) => Tree::Num(f.to_string()),
            V::Boolean(b) => Tree::Bool(*b),
            V::Datetime(d) => Tree::Str(d.to_string()),
            V::Array(a) => Tree::Arr(a.iter().map(Tree::from_toml).collect()),
            V::Table(t) => Tree::Obj(
                t.iter()
                    .map(|(k, v)| (k.clone(), Tree::from_toml(v)))
                    .collect(),
            ),
        }
    }

    /// Every key of every object, for mutations that add a known key in the wrong place.
    pub fn keys(&self, out: &mut Vec<String>) {
        match self {
            Tree::Arr(a) => a.iter().for_each(|t| t.keys(out)),
            Tree::Obj(o) => {
                for (k, v) in o {
                    if !out.contains(k) {
                        out.push(k.clone());
                    }
                    v.keys(out);
                }
            }
            _ => {}
        }
    }

    fn count(&self) -> usize {
        1 + match self {
            Tree::Arr(a) => a.iter().map(Tree::count).sum(),
            Tree::Obj(o) => o.iter().map(|(_, v)| v.count()).sum(),
            _ => 0,
        }
    }

    fn node_ref<'a>(t: &'a Tree, n: &mut usize) -> Option<&'a Tree> {
        if *n == 0 {
            return Some(t);
        }
        *n -= 1;
        let children: Box<dyn Iterator<Item = &Tree>> = match t {
            Tree::Arr(a) => Box::new(a.iter()),
            Tree::Obj(o) => Box::new(o.iter().map(|(_, v)| v)),
            _ => return None,
        };
        for c in children {
            let size = c.count();
            if *n < size {
                return Tree::node_ref(c, n);
            }
            *n -= size;
        }
        None
    }

    /// The node number `n` in depth-first order (`n` < `self.count()`).
    fn node(&mut self, n: usize) -> &mut Tree {
        let mut left = n;
        Tree::node_safe(self, &mut left).expect("a node number below the count")
    }

    fn node_safe<'a>(t: &'a mut Tree, n: &mut usize) -> Option<&'a mut Tree> {
        if *n == 0 {
            return Some(t);
        }
        *n -= 1;
        match t {
            Tree::Arr(a) => {
                for c in a.iter_mut() {
                    let size = c.count();
                    if *n < size {
                        return Tree::node_safe(c, n);
                    }
                    *n -= size;
                }
                None
            }
            Tree::Obj(o) => {
                for (_, c) in o.iter_mut() {
                    let size = c.count();
                    if *n < size {
                        return Tree::node_safe(c, n);
                    }
                    *n -= size;
                }
                None
            }
            _ => None,
        }
    }

    /// An edge value of any kind.
    pub fn edge(rng: &mut Rng) -> Tree {
        match rng.below(10) {
            0 => Tree::Null,
            1 => Tree::Bool(rng.chance(50)),
            2 => Tree::Arr(vec![]),
            3 => Tree::Obj(vec![]),
            4..=6 => Tree::Num(edge_number(rng)),
            _ => Tree::Str(edge_string(rng)),
        }
    }

    /// One to four tree edits; `keys` are key names to add, `donors` whole documents to take
    /// subtrees from.
    pub fn mutate(&mut self, rng: &mut Rng, keys: &[String], donors: &[Tree]) {
        for _ in 0..rng.below(4) + 1 {
            let n = rng.below(self.count());
            let donor = if donors.is_empty() || !rng.chance(15) {
                None
            } else {
                let d = rng.pick(donors);
                let k = rng.below(d.count());
                Tree::node_ref(d, &mut { k }).cloned()
            };
            let node = self.node(n);
            if let Some(d) = donor {
                *node = d;
                continue;
            }
            match node {
                Tree::Obj(o) => match rng.below(6) {
                    0 if !o.is_empty() => {
                        let i = rng.below(o.len());
                        o.remove(i);
                    }
                    1 if !o.is_empty() => {
                        // A key twice: serde refuses duplicate fields, TOML refuses redefinition.
                        let i = rng.below(o.len());
                        let dup = o[i].clone();
                        o.push(dup);
                    }
                    2 => {
                        let k = if !keys.is_empty() && rng.chance(80) {
                            rng.pick(keys).clone()
                        } else {
                            rng.pick(EXTRA_KEYS).to_string()
                        };
                        o.push((k, Tree::edge(rng)));
                    }
                    3 if !o.is_empty() => {
                        let i = rng.below(o.len());
                        o[i].1 = Tree::edge(rng);
                    }
                    _ if !o.is_empty() => {
                        let i = rng.below(o.len());
                        o[i].1.mutate(rng, keys, &[]);
                    }
                    _ => *node = Tree::edge(rng),
                },
                Tree::Arr(a) => match rng.below(6) {
                    0 if !a.is_empty() => {
                        let i = rng.below(a.len());
                        a.remove(i);
                    }
                    1 if !a.is_empty() => {
                        let i = rng.below(a.len());
                        let times = [1, 2, 10, 100][rng.below(4)];
                        for _ in 0..times {
                            a.push(a[i].clone());
                        }
                    }
                    2 => a.clear(),
                    3 => a.push(Tree::edge(rng)),
                    _ if !a.is_empty() => {
                        let i = rng.below(a.len());
                        a[i].mutate(rng, keys, &[]);
                    }
                    _ => *node = Tree::edge(rng),
                },
                Tree::Str(s) => match rng.below(5) {
                    0 => s.push_str(&edge_string(rng)),
                    1 => *s = format!("{}{s}", edge_string(rng)),
                    2 if !s.is_empty() => {
                        let cut = rng.below(s.chars().count());
                        *s = s.chars().take(cut).collect();
                    }
                    _ => *node = Tree::edge(rng),
                },
                Tree::Num(t) => match rng.below(4) {
                    0 => {
                        if let Ok(v) = t.parse::<i128>() {
                            *t = (v + [-1, 1][rng.below(2)]).to_string();
                        }
                    }
                    1 => *t = edge_number(rng),
                    _ => *node = Tree::edge(rng),
                },
                _ => *node = Tree::edge(rng),
            }
        }
    }

    pub fn to_json(&self, out: &mut String) {
        match self {
            Tree::Null => out.push_str("null"),
            Tree::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Tree::Num(n) => out.push_str(n),
            Tree::Str(s) => json_string(s, out),
            Tree::Arr(a) => {
                out.push('[');
                for (i, v) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    v.to_json(out);
                }
                out.push(']');
            }
            Tree::Obj(o) => {
                out.push('{');
                for (i, (k, v)) in o.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    json_string(k, out);
                    out.push(':');
                    v.to_json(out);
                }
                out.push('}');
            }
        }
    }

    /// A TOML document: top-level keys as `key = value` lines, tables written inline. A top-level
    /// value that is not a table gives a document TOML refuses, which is fine for a fuzzer.
    pub fn to_toml(&self, out: &mut String) {
        match self {
            Tree::Obj(o) => {
                for (k, v) in o {
                    if matches!(v, Tree::Null) {
                        continue;
                    }
                    toml_key(k, out);
                    out.push_str(" = ");
                    v.to_toml_value(out);
                    out.push('\n');
                }
            }
            other => other.to_toml_value(out),
        }
    }

    fn to_toml_value(&self, out: &mut String) {
        match self {
            Tree::Null => out.push_str("\"\""),
            Tree::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Tree::Num(n) => out.push_str(n),
            Tree::Str(s) => json_string(s, out),
            Tree::Arr(a) => {
                out.push('[');
                for (i, v) in a.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    v.to_toml_value(out);
                }
                out.push(']');
            }
            Tree::Obj(o) => {
                out.push('{');
                let mut first = true;
                for (k, v) in o {
                    if matches!(v, Tree::Null) {
                        continue;
                    }
                    if !first {
                        out.push_str(", ");
                    }
                    first = false;
                    toml_key(k, out);
                    out.push_str(" = ");
                    v.to_toml_value(out);
                }
                out.push('}');
            }
        }
    }
}

fn json_string(s: &str, out: &mut String) {
    out.push_str(&serde_json::to_string(s).unwrap_or_default());
}

fn toml_key(k: &str, out: &mut String) {
    if !k.is_empty()
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        out.push_str(k);
    } else {
        json_string(k, out);
    }
}

/// Percent-encodes some of `s` (as a browser or a hand-made client might), leaving the rest.
pub fn percent_some(rng: &mut Rng, s: &str) -> String {
    let all = rng.chance(30);
    let mut out = String::new();
    for b in s.bytes() {
        let must = !(b.is_ascii_alphanumeric() || b"-._~".contains(&b));
        if must || (all && rng.chance(50)) {
            out.push_str(&format!("%{b:02X}"));
        } else {
            out.push(b as char);
        }
    }
    out
}
