use super::*;
use crate::fuzzing;

fn with<R>(text: &str, f: impl FnOnce(Result<Doc, Error>) -> R) -> R {
    let mut t = text.as_bytes().to_vec();
    let mut nodes = vec![Node::EMPTY; nodes_for(t.len())];
    f(parse(&mut t, &mut nodes))
}

fn rejects(text: &str) -> Error {
    with(text, |r| r.err().unwrap_or_else(|| panic!("accepted {text:?}")))
}

#[test]
fn navigation_reads_a_config() {
    let text = r#" {"ociVersion": "1.0.2", "process": {"args": ["sh", "-c", "echo \"hi\"\n"], "user": {"uid": 0, "gid": 4294967295},
        "terminal": false}, "linux": {"seccomp": null, "x": -12, "f": 1.5e3}, "dup": 1, "dup": 2} "#;
    with(text, |d| {
        let d = d.unwrap();
        let root = d.root();
        assert_eq!(root.kind(), Kind::Obj);
        assert_eq!(root.get("ociVersion").and_then(|v| v.as_str()), Some("1.0.2"));
        let p = root.get("process").unwrap();
        let args: Vec<&str> = p.get("args").unwrap().items().map(|v| v.as_str().unwrap()).collect();
        assert_eq!(args, ["sh", "-c", "echo \"hi\"\n"]);
        assert_eq!(p.get("user").unwrap().get("uid").unwrap().as_u32(), Some(0));
        assert_eq!(p.get("user").unwrap().get("gid").unwrap().as_u32(), Some(u32::MAX));
        assert_eq!(p.get("terminal").unwrap().as_bool(), Some(false));
        let l = root.get("linux").unwrap();
        assert!(l.get("seccomp").unwrap().is_null());
        assert_eq!(l.get("x").unwrap().as_i64(), Some(-12));
        assert_eq!(l.get("x").unwrap().as_u64(), None);
        assert_eq!(l.get("f").unwrap().as_u64(), None, "1.5e3 is not written as an integer");
        assert_eq!(root.get("dup").unwrap().as_u64(), Some(2), "the last repeat wins");
        assert!(root.get("nope").is_none());
        assert!(p.get("args").unwrap().get("x").is_none(), "get on an array is None");
        let keys: Vec<&str> = root.members().map(|(k, _)| k).collect();
        assert_eq!(keys, ["ociVersion", "process", "linux", "dup", "dup"]);
        assert_eq!(l.members().count(), 3);
        assert_eq!(l.items().count(), 0, "items of an object is empty");
    });
}

#[test]
fn spans_cover_the_raw_value() {
    let text = r#"{"annotations": {"a": "b", "n": [1, 2]}, "k": 7}"#;
    with(text, |d| {
        let d = d.unwrap();
        let r = d.root();
        assert_eq!(r.get("annotations").unwrap().raw(), br#"{"a": "b", "n": [1, 2]}"#);
        assert_eq!(r.get("k").unwrap().span(), text.len() - 2..text.len() - 1);
        assert_eq!(r.span(), 0..text.len());
    });
}

#[test]
fn escapes_decode_in_place_to_utf8() {
    with(r#"["\u00e9\u4e2d\ud83d\ude00\/\b\f\t\r\n\\\"", "\u0000", "é"]"#, |d| {
        let d = d.unwrap();
        let v: Vec<&str> = d.root().items().map(|v| v.as_str().unwrap()).collect();
        assert_eq!(v, ["é中😀/\u{8}\u{c}\t\r\n\\\"", "\0", "é"]);
    });
}

#[test]
fn malformed_text_is_refused_with_offset_and_reason() {
    assert_eq!((rejects("").at, rejects("").why()), (0, &b"unexpected end of text"[..]));
    assert_eq!(rejects("[1,]").at, 3);
    assert_eq!(rejects("{\"a\":1,}").why(), b"expected a string key");
    assert_eq!(rejects("[1 2]").why(), b"expected ',' or ']'");
    assert_eq!(rejects("{\"a\" 1}").why(), b"expected ':'");
    assert_eq!(rejects("01").why(), b"invalid number (leading zero)");
    assert_eq!(rejects("1 2").why(), b"trailing characters after the value");
    assert_eq!(rejects("\"\\ud800\"").why(), b"lone leading surrogate in \\u escape");
    assert_eq!(rejects("\"\\udc00\"").why(), b"lone trailing surrogate in \\u escape");
    assert_eq!(rejects("\"\t\"").why(), b"control character in string (must be escaped)");
    assert_eq!(rejects("1e400").why(), b"number out of range");
    assert_eq!(rejects("[\"a\" , tru]").why(), b"expected a value");
    assert_eq!(rejects("\"abc").why(), b"unterminated string");
    with("\"\u{80}\"", |r| assert!(r.is_ok()));
    let mut bad = *b"\"\xc0\x80\"";
    let mut nodes = [Node::EMPTY; 4];
    assert_eq!(parse(&mut bad, &mut nodes).err().map(|e| e.why()), Some(&b"invalid UTF-8 in string"[..]));
}

#[test]
fn nesting_is_bounded_at_127() {
    let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
    with(&ok, |r| assert!(r.is_ok()));
    let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
    assert_eq!(rejects(&deep).at, MAX_DEPTH as u32);
    let objs = "{\"a\":".repeat(MAX_DEPTH + 1) + "1" + &"}".repeat(MAX_DEPTH + 1);
    assert!(rejects(&objs).why().starts_with(b"nesting too deep"));
    // serde_json draws the line at the same place.
    fuzzing::json(ok.as_bytes());
    fuzzing::json(deep.as_bytes());
    fuzzing::json(objs.as_bytes());
}

#[test]
fn a_small_node_table_is_an_error_not_a_crash() {
    let mut t = *b"[1,2,3]";
    let mut nodes = [Node::EMPTY; 3];
    let e = parse(&mut t, &mut nodes).err().unwrap();
    assert_eq!(e.why(), b"too many values for the node table");
    let mut t = *b"1";
    assert!(parse(&mut t, &mut []).is_err());
}

#[test]
fn the_node_bound_is_reached_and_holds() {
    // The densest texts: one-digit elements, empty containers, 1-char keys.
    for text in ["[1,1,1,1,1]", "[[],[],{}]", "{\"\":1,\"\":[]}", "7", "[[[[]]]]"] {
        let mut t = text.as_bytes().to_vec();
        let mut nodes = vec![Node::EMPTY; nodes_for(t.len())];
        let n = parse(&mut t, &mut nodes).map(|d| d.nodes.len()).unwrap();
        assert!(n <= nodes_for(text.len()), "{text}: {n}");
    }
    let mut t = *b"[1,1,1,1,1]";
    let mut nodes = [Node::EMPTY; nodes_for(11)];
    assert_eq!(parse(&mut t, &mut nodes).unwrap().nodes.len(), nodes_for(11), "the bound is tight");
}

#[test]
fn integers_are_checked() {
    for (t, u, i) in [
        ("0", Some(0), Some(0)),
        ("18446744073709551615", Some(u64::MAX), None),
        ("18446744073709551616", None, None),
        ("9223372036854775807", Some(i64::MAX as u64), Some(i64::MAX)),
        ("-9223372036854775808", None, Some(i64::MIN)),
        ("-9223372036854775809", None, None),
        ("-0", None, None),
        ("1.0", None, None),
        ("1e2", None, None),
    ] {
        with(t, |d| {
            let d = d.unwrap();
            let v = d.root();
            assert_eq!((v.as_u64(), v.as_i64()), (u, i), "{t}");
        });
        fuzzing::json(t.as_bytes());
    }
    with("4294967296", |d| assert_eq!(d.unwrap().root().as_u32(), None));
}

/// Texts at every edge serde_json has: the verdicts and values agree.
#[test]
fn edge_cases_agree_with_serde_json() {
    let cases: &[&[u8]] = &[
        b"", b" ", b"null", b"nul", b"nulll", b"true", b"True", b"false ", b"\t\r\n 1 \n", b"\x0c1", b"\xef\xbb\xbf1",
        b"[]", b"{}", b"[,]", b"[1,]", b"{,}", b"{\"a\"}", b"{\"a\":}", b"{1:2}", b"{\"a\":1 \"b\":2}", b"[1]]", b"[[1]",
        b"-", b"-1", b"--1", b"+1", b".5", b"5.", b"5.e1", b"1e", b"1e+", b"1E-2", b"1e+2", b"00", b"-01", b"0.0e0",
        b"1.7976931348623157e308", b"1.7976931348623158e308", b"1.7976931348623159e308", b"-1.7976931348623159e308",
        b"179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792",
        b"179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497791.999999",
        b"0.0000000000000000000000000001797693134862315807937289714053034150799341327100378269361737789804449682927647509466490179775872070963302864166928879109465555478519404026306574886715058206819089020007083836762738548458177115317644757302700698555713669596228429148198608349364752927190741684443655107043427115596995080930428801779041744977920e337",
        b"1e308", b"1e309", b"10e308", b"0.1e310", b"1e-400", b"0e99999999999999999999", b"-0e400", b"4.9e-324", b"1e-99999999999999999",
        b"123456789012345678901234567890", b"-9223372036854775808", b"-9223372036854775809", b"-0", b"-0.0",
        b"\"", b"\"\\\"", b"\"\\x\"", b"\"\\u12\"", b"\"\\u12g4\"", b"\"\\uD834\\uDD1E\"", b"\"\\uD834\"", b"\"\\uD834x\"",
        b"\"\\uD834\\u0041\"", b"\"\\uDD1E\\uD834\"", b"\"\\uDBFF\\uDFFF\"", b"\"\\ud800\\ud800\"", b"\"\x7f\"", b"\"\x1f\"",
        b"\"\xed\xa0\x80\"", b"\"\xf4\x90\x80\x80\"", b"\"\xf0\x9f\x98\x80\"", b"\"\xe2\x82\"", b"\"\xc3\xa9\"", b"\"\xff\"",
        b"\"\x80\"", b"\"\xc1\xbf\"", b"\"\xe0\x80\x80\"", b"\"\\/\"", b"'a'", b"[1,2]x", b"[1,2] ", b"{\"a\":1}}",
        b"{\"a\":1,\"a\":[2]}", b"{\"\":\"\"}", b"[\"\\u0000\"]", b"[1] // c", b"/* c */ 1", b"NaN", b"Infinity", b"[1\x00]",
    ];
    for c in cases {
        fuzzing::json(c);
    }
}

/// A small deterministic generator (xorshift) of JSON texts: mostly valid
/// ones from a grammar with boundary numbers and every escape, then each
/// mutated (bytes deleted, replaced, inserted) so both verdicts are tested.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a, T: Copy>(&mut self, xs: &'a [T]) -> T {
        xs[(self.next() % xs.len() as u64) as usize]
    }
    fn ws(&mut self, out: &mut Vec<u8>) {
        if self.next() % 4 == 0 {
            out.extend_from_slice(self.pick(&[&b" "[..], b"\n", b"\t ", b"\r\n  "]));
        }
    }
    fn string(&mut self, out: &mut Vec<u8>) {
        out.push(b'"');
        for _ in 0..self.next() % 6 {
            let piece: &[u8] = self.pick(&[
                &b"a"[..], b"Z", b" ", b"\\\"", b"\\\\", b"\\/", b"\\b", b"\\f", b"\\n", b"\\r", b"\\t", b"\\u0041",
                b"\\u00e9", b"\\u4E2D", b"\\ud83d\\ude00", b"\\uDBFF\\uDFFF", b"\\u0000", b"\\ud800", b"\\udfff",
                "é".as_bytes(), "中".as_bytes(), "😀".as_bytes(), b"\x7f", b"\x1f", b"\xff", b"\xed\xa0\x80",
            ]);
            out.extend_from_slice(piece);
        }
        out.push(b'"');
    }
    fn value(&mut self, out: &mut Vec<u8>, depth: u32) {
        self.ws(out);
        match self.next() % if depth > 6 { 4 } else { 7 } {
            0 => out.extend_from_slice(self.pick(&[&b"null"[..], b"true", b"false"])),
            1 | 2 => {
                let n: &[u8] = self.pick(&[
                    &b"0"[..], b"-0", b"1", b"-1", b"2147483648", b"4294967295", b"4294967296", b"9223372036854775807",
                    b"9223372036854775808", b"-9223372036854775808", b"-9223372036854775809", b"18446744073709551615",
                    b"18446744073709551616", b"1.5", b"-0.25e-3", b"1E10", b"1e308", b"1e309", b"2.5e-400", b"3e+2",
                ]);
                out.extend_from_slice(n);
            }
            3 => self.string(out),
            4 | 5 => {
                out.push(b'[');
                for i in 0..self.next() % 4 {
                    if i > 0 {
                        out.push(b',');
                    }
                    self.value(out, depth + 1);
                }
                self.ws(out);
                out.push(b']');
            }
            _ => {
                out.push(b'{');
                for i in 0..self.next() % 4 {
                    if i > 0 {
                        out.push(b',');
                    }
                    self.ws(out);
                    if self.next() % 3 == 0 {
                        out.extend_from_slice(b"\"k\"");
                    } else {
                        self.string(out);
                    }
                    self.ws(out);
                    out.push(b':');
                    self.value(out, depth + 1);
                }
                self.ws(out);
                out.push(b'}');
            }
        }
        self.ws(out);
    }
    fn mutate(&mut self, t: &mut Vec<u8>) {
        for _ in 0..1 + self.next() % 3 {
            let at = (self.next() % (t.len() as u64 + 1)) as usize;
            let b = self.pick(&[b'"', b'\\', b',', b':', b'[', b']', b'{', b'}', b'0', b'-', b'e', b'.', b' ', b'u', 0xc3, 0x80]);
            match self.next() % 3 {
                0 if at < t.len() => {
                    t.remove(at);
                }
                1 if at < t.len() => t[at] = b,
                _ => t.insert(at, b),
            }
        }
    }
}

#[test]
fn a_generated_corpus_agrees_with_serde_json() {
    let mut g = Gen(0x9e3779b97f4a7c15);
    let (mut accepted, mut rejected) = (0, 0);
    for _ in 0..20_000 {
        let mut t = Vec::new();
        g.value(&mut t, 0);
        fuzzing::json(&t);
        g.mutate(&mut t);
        fuzzing::json(&t);
        match serde_json::from_slice::<serde_json::Value>(&t) {
            Ok(_) => accepted += 1,
            Err(_) => rejected += 1,
        }
    }
    // The corpus exercises both verdicts in earnest.
    assert!(accepted > 1000 && rejected > 1000, "accepted {accepted}, rejected {rejected}");
}

#[test]
fn a_mapped_file_parses_in_place_and_the_file_is_unchanged() {
    let path = std::env::temp_dir().join(format!("mydocker-json-{}", std::process::id()));
    std::fs::write(&path, br#"{"a": "x\ty", "n": [1]}"#).unwrap();
    let text = crate::sys::map_file(path.as_os_str().as_encoded_bytes()).unwrap();
    let mut nodes = [Node::EMPTY; nodes_for(24)];
    let d = parse(text, &mut nodes).unwrap();
    assert_eq!(d.root().get("a").and_then(|v| v.as_str()), Some("x\ty"));
    assert_eq!(std::fs::read(&path).unwrap(), br#"{"a": "x\ty", "n": [1]}"#, "MAP_PRIVATE: the file is untouched");
    std::fs::remove_file(&path).unwrap();
    assert_eq!(crate::sys::map_file(b"/").err(), Some(crate::sys::Errno(libc::EISDIR)));
}

#[test]
fn every_reason_has_its_own_text() {
    let n = WHYS.split(|&c| c == b'|').count();
    assert_eq!(n, Why::Hex as usize + 1, "one text per Why");
    assert_eq!(Error { at: 0, code: Why::TooLarge }.why(), b"text too large");
    assert_eq!(Error { at: 0, code: Why::Hex }.why(), b"invalid \\u escape (4 hex digits)");
}
