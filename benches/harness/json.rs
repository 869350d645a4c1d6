//! A minimal JSON writer for the generator: keys in the order they are written (the order the
//! real tools write them), strings escaped as serde_json would. Much cheaper than building
//! `serde_json::Value`s for hundreds of megabytes of lines.

/// Appends `s` as a JSON string literal.
pub fn esc(out: &mut String, s: &str) {
    out.push('"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let rep: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\t' => "\\t",
            b'\r' => "\\r",
            0..=0x1f => {
                out.push_str(&s[start..i]);
                out.push_str(&format!("\\u{:04x}", b));
                start = i + 1;
                continue;
            }
            _ => continue,
        };
        out.push_str(&s[start..i]);
        out.push_str(rep);
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// A JSON object being written into a string.
pub struct Obj<'a> {
    s: &'a mut String,
    first: bool,
}

impl<'a> Obj<'a> {
    pub fn begin(s: &'a mut String) -> Obj<'a> {
        s.push('{');
        Obj { s, first: true }
    }

    fn key(&mut self, k: &str) {
        if !self.first {
            self.s.push(',');
        }
        self.first = false;
        self.s.push('"');
        self.s.push_str(k);
        self.s.push_str("\":");
    }

    pub fn str(&mut self, k: &str, v: &str) -> &mut Self {
        self.key(k);
        esc(self.s, v);
        self
    }

    pub fn opt_str(&mut self, k: &str, v: Option<&str>) -> &mut Self {
        match v {
            Some(v) => self.str(k, v),
            None => self.null(k),
        }
    }

    pub fn num(&mut self, k: &str, v: i64) -> &mut Self {
        self.key(k);
        self.s.push_str(itoa(v).as_str());
        self
    }

    pub fn float(&mut self, k: &str, v: f64) -> &mut Self {
        self.key(k);
        self.s.push_str(&format!("{v:.1}"));
        self
    }

    pub fn bool(&mut self, k: &str, v: bool) -> &mut Self {
        self.key(k);
        self.s.push_str(if v { "true" } else { "false" });
        self
    }

    pub fn null(&mut self, k: &str) -> &mut Self {
        self.key(k);
        self.s.push_str("null");
        self
    }

    pub fn obj(&mut self, k: &str, f: impl FnOnce(&mut Obj)) -> &mut Self {
        self.key(k);
        let mut o = Obj::begin(self.s);
        f(&mut o);
        o.s.push('}');
        self
    }

    pub fn arr(&mut self, k: &str, f: impl FnOnce(&mut Arr)) -> &mut Self {
        self.key(k);
        let mut a = Arr::begin(self.s);
        f(&mut a);
        a.s.push(']');
        self
    }

    pub fn end(self) {
        self.s.push('}');
    }
}

/// A JSON array being written into a string.
pub struct Arr<'a> {
    s: &'a mut String,
    first: bool,
}

impl<'a> Arr<'a> {
    fn begin(s: &'a mut String) -> Arr<'a> {
        s.push('[');
        Arr { s, first: true }
    }

    fn sep(&mut self) {
        if !self.first {
            self.s.push(',');
        }
        self.first = false;
    }

    pub fn str(&mut self, v: &str) -> &mut Self {
        self.sep();
        esc(self.s, v);
        self
    }

    pub fn obj(&mut self, f: impl FnOnce(&mut Obj)) -> &mut Self {
        self.sep();
        let mut o = Obj::begin(self.s);
        f(&mut o);
        o.s.push('}');
        self
    }
}

fn itoa(v: i64) -> String {
    v.to_string()
}
