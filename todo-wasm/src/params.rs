//! Query parameters from JavaScript: a query string (`"search=rent&priority=High"`, with or
//! without `?`), a `URLSearchParams` or any iterable of `[name, value]` pairs, or a plain object
//! whose values are strings, numbers, booleans or arrays of them (an array means the parameter
//! is repeated; `null` and `undefined` leave it out). The pairs go to `TaskQuery::from_pairs` in
//! this order, so the errors are the server's for the same URL.

use js_sys::{Array, Object};
use wasm_bindgen::{JsCast, JsValue};

use crate::errors;

/// Splits an `application/x-www-form-urlencoded` query string (with or without a leading `?`)
/// into decoded pairs (`+` is a space, `%XX` a byte, invalid UTF-8 replaced, a name without `=`
/// has an empty value), as a server's query extractor does (`form_urlencoded`, the `url` crate's
/// parser).
pub fn decode_query_string(s: &str) -> Vec<(String, String)> {
    let s = s.strip_prefix('?').unwrap_or(s);
    form_urlencoded::parse(s.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// A number as JavaScript's `String(n)` writes integers (`20`, not `20.0`).
fn number_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        // Exact: an integral f64 below 2^53 is an i64.
        #[allow(clippy::cast_possible_truncation)]
        let i = n as i64;
        i.to_string()
    } else {
        n.to_string()
    }
}

/// One value as the text a URL would carry.
fn text(v: &JsValue) -> Result<Option<String>, JsValue> {
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    if let Some(s) = v.as_string() {
        return Ok(Some(s));
    }
    if let Some(n) = v.as_f64() {
        return Ok(Some(number_text(n)));
    }
    if let Some(b) = v.as_bool() {
        return Ok(Some(b.to_string()));
    }
    Err(errors::type_error(
        "a query parameter value must be a string, a number, a boolean or an array of them",
    ))
}

/// The `(name, value)` pairs of `params` (see the module documentation).
pub fn pairs(params: &JsValue) -> Result<Vec<(String, String)>, JsValue> {
    if params.is_undefined() || params.is_null() {
        return Ok(Vec::new());
    }
    if let Some(s) = params.as_string() {
        return Ok(decode_query_string(&s));
    }
    let mut out = Vec::new();
    if !params.is_object() {
        return Err(errors::type_error(
            "query parameters must be a query string, URLSearchParams, [name, value] pairs or an object",
        ));
    }
    if let Some(iter) = js_sys::try_iter(params)? {
        for pair in iter {
            let pair = pair?;
            let pair: Array = pair
                .dyn_into()
                .map_err(|_| errors::type_error("expected [name, value] pairs"))?;
            let name = pair
                .get(0)
                .as_string()
                .ok_or_else(|| errors::type_error("a parameter name must be a string"))?;
            if let Some(v) = text(&pair.get(1))? {
                out.push((name, v));
            }
        }
        return Ok(out);
    }
    let object: &Object = params.unchecked_ref();
    for entry in Object::entries(object).iter() {
        let entry: Array = entry.unchecked_into();
        let name = entry.get(0).as_string().unwrap_or_default();
        let value = entry.get(1);
        if Array::is_array(&value) {
            let list: Array = value.unchecked_into();
            for one in list.iter() {
                if let Some(v) = text(&one)? {
                    out.push((name.clone(), v));
                }
            }
        } else if let Some(v) = text(&value)? {
            out.push((name, v));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_like_a_form() {
        assert_eq!(
            decode_query_string("?search=pay+rent%21&priority=High&priority=Low&x"),
            vec![
                ("search".into(), "pay rent!".into()),
                ("priority".into(), "High".into()),
                ("priority".into(), "Low".into()),
                ("x".into(), String::new()),
            ]
        );
        assert_eq!(
            decode_query_string("search=%C3%BCber%2"),
            vec![("search".into(), "über%2".into())]
        );
        assert_eq!(decode_query_string(""), Vec::<(String, String)>::new());
        assert_eq!(decode_query_string("?"), Vec::<(String, String)>::new());
        // Empty pieces are skipped; only the first `=` splits; a lone `%` stays.
        assert_eq!(
            decode_query_string("&&a=b=c&%&=v&search=%E2%82%AC%ZZ"),
            vec![
                ("a".into(), "b=c".into()),
                ("%".into(), String::new()),
                (String::new(), "v".into()),
                ("search".into(), "€%ZZ".into()),
            ]
        );
        // Invalid UTF-8 is replaced, not an error.
        assert_eq!(
            decode_query_string("search=%FF"),
            vec![("search".into(), "\u{FFFD}".into())]
        );
    }
}
