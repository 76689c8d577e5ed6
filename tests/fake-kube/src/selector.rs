//! Label and field selectors with the API server's grammar and errors.
//!
//! Labels: `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`, `k>1`, `k<1`,
//! comma-separated (commas inside parentheses belong to the set). Fields: `f=v`, `f==v`,
//! `f!=v` on the fields the API server indexes for the resource; any other field is
//! `400 field label not supported`.

use serde_json::Value;

/// One label requirement.
#[derive(Debug, Clone, PartialEq)]
enum Op {
    Exists,
    DoesNotExist,
    Equals(String),
    NotEquals(String),
    In(Vec<String>),
    NotIn(Vec<String>),
    Gt(i64),
    Lt(i64),
}

/// A parsed label selector; the empty one selects everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabelSelector(Vec<(String, Op)>);

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Not,
    NotEq,
    Eq,
    DoubleEq,
    In,
    NotIn,
    Open,
    Close,
    Comma,
    Gt,
    Lt,
    End,
}

impl Tok {
    fn text(&self) -> String {
        match self {
            Tok::Ident(s) => s.clone(),
            Tok::Not => "!".into(),
            Tok::NotEq => "!=".into(),
            Tok::Eq => "=".into(),
            Tok::DoubleEq => "==".into(),
            Tok::In => "in".into(),
            Tok::NotIn => "notin".into(),
            Tok::Open => "(".into(),
            Tok::Close => ")".into(),
            Tok::Comma => ",".into(),
            Tok::Gt => ">".into(),
            Tok::Lt => "<".into(),
            Tok::End => String::new(),
        }
    }
}

fn lex(s: &str) -> Vec<Tok> {
    let c: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < c.len() {
        let ch = c[i];
        let next = c.get(i + 1).copied();
        let (tok, len) = match ch {
            ' ' | '\t' | '\n' | '\r' => {
                i += 1;
                continue;
            }
            '!' if next == Some('=') => (Tok::NotEq, 2),
            '!' => (Tok::Not, 1),
            '=' if next == Some('=') => (Tok::DoubleEq, 2),
            '=' => (Tok::Eq, 1),
            '(' => (Tok::Open, 1),
            ')' => (Tok::Close, 1),
            ',' => (Tok::Comma, 1),
            '>' => (Tok::Gt, 1),
            '<' => (Tok::Lt, 1),
            _ => {
                let start = i;
                let mut j = i;
                while j < c.len() && !" \t\n\r!=(),<>".contains(c[j]) {
                    j += 1;
                }
                let word: String = c[start..j].iter().collect();
                let tok = match word.as_str() {
                    "in" => Tok::In,
                    "notin" => Tok::NotIn,
                    _ => Tok::Ident(word),
                };
                (tok, j - start)
            }
        };
        out.push(tok);
        i += len;
    }
    out.push(Tok::End);
    out
}

fn found(t: &Tok, expected: &str) -> String {
    format!("unable to parse requirement: found '{}', expected: {expected}", t.text())
}

/// A label name: `[prefix/]name`, name at most 63 alphanumerics, `-`, `_`, `.`, starting and
/// ending with an alphanumeric; prefix a DNS subdomain.
fn valid_key(k: &str) -> Result<(), String> {
    let (prefix, name) = match k.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, k),
    };
    let name_ok = !name.is_empty()
        && name.len() <= 63
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    let prefix_ok = prefix.is_none_or(|p| {
        !p.is_empty()
            && p.len() <= 253
            && p.split('.').all(|l| {
                !l.is_empty()
                    && l.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                    && !l.starts_with('-')
                    && !l.ends_with('-')
            })
    });
    if name_ok && prefix_ok {
        Ok(())
    } else {
        Err(format!(
            "unable to parse requirement: Invalid value: {k:?}: name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
        ))
    }
}

fn valid_value(v: &str) -> Result<(), String> {
    let ok = v.is_empty()
        || (v.len() <= 63
            && v.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            && v.starts_with(|c: char| c.is_ascii_alphanumeric())
            && v.ends_with(|c: char| c.is_ascii_alphanumeric()));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "unable to parse requirement: Invalid value: {v:?}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
        ))
    }
}

impl LabelSelector {
    /// Parses `labelSelector`; the error is the API server's message (for a 400).
    pub fn parse(s: &str) -> Result<Self, String> {
        let toks = lex(s);
        let mut i = 0;
        let mut reqs = Vec::new();
        if toks[0] == Tok::End {
            return Ok(Self(reqs));
        }
        loop {
            let (key, op) = match &toks[i] {
                Tok::Not => {
                    i += 1;
                    match &toks[i] {
                        Tok::Ident(k) => {
                            i += 1;
                            (k.clone(), Op::DoesNotExist)
                        }
                        t => return Err(found(t, "identifier")),
                    }
                }
                Tok::Ident(k) => {
                    let key = k.clone();
                    i += 1;
                    let op = match &toks[i] {
                        Tok::End | Tok::Comma => Op::Exists,
                        Tok::Eq | Tok::DoubleEq | Tok::NotEq => {
                            let neg = toks[i] == Tok::NotEq;
                            i += 1;
                            let v = match &toks[i] {
                                Tok::Ident(v) => {
                                    i += 1;
                                    v.clone()
                                }
                                Tok::End | Tok::Comma => String::new(),
                                t => return Err(found(t, "identifier")),
                            };
                            valid_value(&v)?;
                            if neg {
                                Op::NotEquals(v)
                            } else {
                                Op::Equals(v)
                            }
                        }
                        Tok::In | Tok::NotIn => {
                            let neg = toks[i] == Tok::NotIn;
                            i += 1;
                            if toks[i] != Tok::Open {
                                return Err(found(&toks[i], "'('"));
                            }
                            i += 1;
                            let mut values = Vec::new();
                            loop {
                                match &toks[i] {
                                    Tok::Ident(v) => {
                                        valid_value(v)?;
                                        values.push(v.clone());
                                        i += 1;
                                        match &toks[i] {
                                            Tok::Comma => i += 1,
                                            Tok::Close => {}
                                            t => return Err(found(t, "',' or ')'")),
                                        }
                                    }
                                    Tok::Comma => {
                                        values.push(String::new());
                                        i += 1;
                                    }
                                    Tok::Close => {
                                        i += 1;
                                        break;
                                    }
                                    t => return Err(found(t, "',', ')' or identifier")),
                                }
                            }
                            if values.is_empty() {
                                return Err(format!(
                                    "unable to parse requirement: values: Required value: for 'in', 'notin' operators, values set can't be empty (key {key:?})"
                                ));
                            }
                            if neg {
                                Op::NotIn(values)
                            } else {
                                Op::In(values)
                            }
                        }
                        Tok::Gt | Tok::Lt => {
                            let gt = toks[i] == Tok::Gt;
                            i += 1;
                            let n = match &toks[i] {
                                Tok::Ident(v) => v.parse::<i64>().map_err(|_| {
                                    format!("unable to parse requirement: Invalid value: {v:?}: for 'Gt', 'Lt' operators, the value must be an integer")
                                })?,
                                t => return Err(found(t, "identifier")),
                            };
                            i += 1;
                            if gt {
                                Op::Gt(n)
                            } else {
                                Op::Lt(n)
                            }
                        }
                        t => return Err(found(t, "'=', '!=', '==', 'in', notin'")),
                    };
                    (key, op)
                }
                t => return Err(found(t, "!, identifier, or 'end of string'")),
            };
            valid_key(&key)?;
            reqs.push((key, op));
            match &toks[i] {
                Tok::End => break,
                Tok::Comma => {
                    i += 1;
                    if toks[i] == Tok::End {
                        return Err(found(&toks[i], "identifier after ','"));
                    }
                }
                t => return Err(found(t, "',' or 'end of string'")),
            }
        }
        Ok(Self(reqs))
    }

    /// Whether an object's `metadata.labels` satisfy every requirement.
    pub fn matches(&self, obj: &Value) -> bool {
        let labels = &obj["metadata"]["labels"];
        self.0.iter().all(|(k, op)| {
            let v = labels.get(k).and_then(Value::as_str);
            match op {
                Op::Exists => v.is_some(),
                Op::DoesNotExist => v.is_none(),
                Op::Equals(w) => v == Some(w.as_str()),
                Op::NotEquals(w) => v != Some(w.as_str()),
                Op::In(set) => v.is_some_and(|v| set.iter().any(|w| w == v)),
                Op::NotIn(set) => v.is_none_or(|v| !set.iter().any(|w| w == v)),
                Op::Gt(n) => v.and_then(|v| v.parse::<i64>().ok()).is_some_and(|v| v > *n),
                Op::Lt(n) => v.and_then(|v| v.parse::<i64>().ok()).is_some_and(|v| v < *n),
            }
        })
    }

    /// Whether the selector has no requirements.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A parsed field selector; the empty one selects everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldSelector(Vec<(String, bool, String)>);

/// The fields the API server can select `plural` by.
fn supported(plural: &str, field: &str) -> bool {
    let extra: &[&str] = match plural {
        "pods" => &[
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.nominatedNodeName",
        ],
        "events" => &[
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
        ],
        "nodes" => &["spec.unschedulable"],
        "namespaces" => &["status.phase"],
        "jobs" => &["status.successful"],
        "replicasets" => &["status.replicas"],
        _ => &[],
    };
    field == "metadata.name" || field == "metadata.namespace" || extra.contains(&field)
}

fn field_value(obj: &Value, field: &str) -> String {
    if field == "source" {
        return obj["source"]["component"].as_str().unwrap_or_default().to_string();
    }
    let v = field.split('.').fold(obj, |v, p| &v[p]);
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        // Unset booleans select as "false", unset strings as "".
        Value::Null if field == "spec.unschedulable" || field == "spec.hostNetwork" => "false".into(),
        _ => String::new(),
    }
}

impl FieldSelector {
    /// Parses `fieldSelector` for `plural`; the error is the API server's message.
    pub fn parse(plural: &str, s: &str) -> Result<Self, String> {
        let mut terms = Vec::new();
        for term in s.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            let (field, neg, value) = if let Some((f, v)) = term.split_once("!=") {
                (f, true, v)
            } else if let Some((f, v)) = term.split_once("==") {
                (f, false, v)
            } else if let Some((f, v)) = term.split_once('=') {
                (f, false, v)
            } else {
                return Err(format!("invalid selector: '{s}'; can't understand '{term}'"));
            };
            let field = field.trim();
            if !supported(plural, field) {
                return Err(format!("field label not supported: {field}"));
            }
            terms.push((field.to_string(), neg, value.trim().to_string()));
        }
        Ok(Self(terms))
    }

    /// Whether `obj` satisfies every term.
    pub fn matches(&self, obj: &Value) -> bool {
        self.0.iter().all(|(f, neg, v)| (field_value(obj, f) == *v) != *neg)
    }

    /// Whether the selector has no terms.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Both selectors of a list or watch.
#[derive(Debug, Clone, Default)]
pub struct Selectors {
    /// `labelSelector`.
    pub labels: LabelSelector,
    /// `fieldSelector`.
    pub fields: FieldSelector,
}

impl Selectors {
    /// Parses both; the error is the API server's 400 message.
    pub fn parse(plural: &str, labels: Option<&str>, fields: Option<&str>) -> Result<Self, String> {
        Ok(Self {
            labels: LabelSelector::parse(labels.unwrap_or_default())?,
            fields: FieldSelector::parse(plural, fields.unwrap_or_default())?,
        })
    }

    /// Whether `obj` is selected.
    pub fn matches(&self, obj: &Value) -> bool {
        self.labels.matches(obj) && self.fields.matches(obj)
    }

    /// Whether nothing is filtered out.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty() && self.fields.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(labels: Value) -> Value {
        json!({"metadata": {"name": "p", "namespace": "hsof", "labels": labels}, "spec": {"nodeName": "n1"}, "status": {"phase": "Running"}})
    }

    fn sel(s: &str) -> LabelSelector {
        LabelSelector::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn label_selectors_follow_the_api_server_grammar() {
        let p = pod(json!({"app": "batch", "track": "stable", "n": "5"}));
        for yes in [
            "",
            "app=batch",
            "app==batch",
            "app!=web",
            "missing!=x",
            "app in (batch,web)",
            "app in (web, batch)",
            "track notin (canary)",
            "missing notin (a)",
            "app",
            "!missing",
            "app in (batch,web),track notin (canary),!missing",
            "n>4",
            "n<6",
            "  app = batch , track ",
        ] {
            assert!(sel(yes).matches(&p), "{yes} should select");
        }
        for no in [
            "app=web",
            "app!=batch",
            "app in (web,x)",
            "track notin (canary,stable)",
            "missing",
            "!app",
            "missing in (a)",
            "app in (batch),track=canary",
            "n>5",
        ] {
            assert!(!sel(no).matches(&p), "{no} should not select");
        }
        assert_eq!(sel("a in (x,y),b").0.len(), 2, "commas inside parentheses are not separators");
    }

    #[test]
    fn bad_label_selectors_are_refused_like_the_api_server() {
        for bad in ["app in batch", "app in (a", "app=", "=x", "app,", "app in ()", "a b", "!", "a=b=c", "-a=b", "n>x"]
        {
            let r = LabelSelector::parse(bad);
            if bad == "app=" {
                assert!(r.is_ok(), "an empty value is allowed");
                continue;
            }
            let e = r.expect_err(bad);
            assert!(e.starts_with("unable to parse requirement: "), "{bad}: {e}");
        }
    }

    #[test]
    fn field_selectors_know_the_indexed_fields() {
        let p = pod(json!({}));
        let f = |s: &str| FieldSelector::parse("pods", s).expect(s);
        assert!(f("metadata.name=p,status.phase=Running,spec.nodeName==n1,metadata.namespace!=x").matches(&p));
        assert!(!f("status.phase!=Running").matches(&p));
        assert!(!f("spec.nodeName=n2").matches(&p));
        let e = FieldSelector::parse("pods", "spec.foo=x").expect_err("unsupported");
        assert_eq!(e, "field label not supported: spec.foo");
        assert!(FieldSelector::parse("deployments", "status.phase=Running").is_err());
        assert!(FieldSelector::parse("deployments", "metadata.name=x").is_ok());
    }
}
