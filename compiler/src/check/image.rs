//! A step's `image`: is it an OCI image reference a container runtime can pull?
//!
//! The grammar is the one of `distribution/reference`, which Docker, containerd, Argo and
//! Kubeflow use: `[registry[:port]/]path[:tag][@algorithm:hex]`. The first component of the
//! path is the registry when it has a `.` or a `:`, is `localhost`, or has upper-case letters
//! (as Docker decides); path components are lower-case letters and digits joined by `.`, `_`,
//! `__` or dashes; a tag is `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`; a digest is an algorithm
//! (`sha256`) and at least 32 hex digits. A step parameter (`${name}`) is refused on its own: an
//! image must be known when the pipeline is built; build variables (`${build.name}`) are
//! replaced before this check.

pub(crate) use crate::diagnostics::ops::ImageProblem;

/// The longest name (registry and path) a reference may have.
const MAX_NAME: usize = 255;

/// Why `image` is not a valid reference, or `None` when it is. A reference of the usual shape
/// is accepted in one pass over its bytes ([`is_plainly_valid`]); any other is read part by
/// part ([`first_problem`]), which finds the first problem in the order the messages promise.
pub(crate) fn image_problem(image: &str) -> Option<ImageProblem> {
    if is_plainly_valid(image) {
        return None;
    }
    first_problem(image)
}

/// The first problem of `image`, or `None` when it is valid: the refused characters, then the
/// digest, the tag and the name.
fn first_problem(image: &str) -> Option<ImageProblem> {
    // `$` is refused: a reference with `${` has a refused character, and says so first.
    if let Some(c) = first_refused_char(image) {
        if image.contains("${") {
            return Some(ImageProblem::BuildTimeValue);
        }
        let what = match c {
            ' ' => "a space".to_string(),
            c if c.is_whitespace() || c.is_control() => "a blank".to_string(),
            c => format!("`{c}`"),
        };
        return malformed(format!("an image reference cannot contain {what}"));
    }
    let (rest, digest) = match image.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (image, None),
    };
    if let Some(d) = digest {
        if !is_digest(d) {
            return malformed(format!(
                "the digest `{d}` is not an algorithm and hex digits, such as `sha256:` and 64 hex digits"
            ));
        }
    }
    let slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match rest[slash..].rfind(':') {
        Some(i) => (&rest[..slash + i], Some(&rest[slash + i + 1..])),
        None => (rest, None),
    };
    if let Some(t) = tag {
        if let Some(why) = tag_problem(t) {
            return malformed(why);
        }
    }
    name_problem(name).map(ImageProblem::Malformed)
}

/// Whether `image` is a valid reference of the usual shape, `[host[:port]/]path[:tag]` (no
/// digest, no bracketed address), read in one pass over its bytes. `false` says only that
/// [`first_problem`] must decide: it is never `true` for a reference that check refuses.
fn is_plainly_valid(image: &str) -> bool {
    let b = image.as_bytes();
    let mut i = match first_component(b) {
        First::Path => 0,
        First::Registry(path_start) => path_start,
        First::Other => return false,
    };
    loop {
        let Some(end) = path_component_end(b, i) else {
            return false;
        };
        match b.get(end) {
            None => return end <= MAX_NAME,
            Some(b'/') => i = end + 1,
            Some(b':') => return end <= MAX_NAME && is_plain_tag(&b[end + 1..]),
            Some(_) => return false,
        }
    }
}

/// What the component before the first `/` is, as [`name_problem`] decides.
enum First {
    /// A path component (or there is no `/`): the path starts at the beginning.
    Path,
    /// A valid `host[:port]`; the path starts at this index.
    Registry(usize),
    /// A registry this pass does not accept.
    Other,
}

/// Reads the component before the first `/`: a registry when it has a `.`, a `:` or an
/// upper-case letter, or is `localhost`.
fn first_component(b: &[u8]) -> First {
    let mut end = 0;
    let mut marked = false;
    while end < b.len() && b[end] != b'/' {
        marked |= is(b[end], MARK);
        end += 1;
    }
    let first = &b[..end];
    if end == b.len() || !(marked || first == b"localhost") {
        First::Path
    } else if is_plain_host_port(first) {
        First::Registry(end + 1)
    } else {
        First::Other
    }
}

/// `label(.label)*(:digits)?`, labels of letters, digits and inner dashes.
fn is_plain_host_port(r: &[u8]) -> bool {
    let mut i = 0;
    loop {
        let start = i;
        while i < r.len() && is(r[i], HOST) {
            i += 1;
        }
        let label = &r[start..i];
        if label.first().is_none_or(|&c| c == b'-') || label.last() == Some(&b'-') {
            return false;
        }
        match r.get(i) {
            None => return true,
            Some(b'.') => i += 1,
            Some(b':') => return is_port_bytes(&r[i + 1..]),
            Some(_) => return false,
        }
    }
}

fn is_port_bytes(p: &[u8]) -> bool {
    !p.is_empty() && p.iter().all(u8::is_ascii_digit)
}

/// The end of the path component that starts at `i`
/// (`[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`): the index of the first byte after it, or `None`
/// when no valid component starts there.
fn path_component_end(b: &[u8], mut i: usize) -> Option<usize> {
    loop {
        let start = i;
        while i < b.len() && is(b[i], LOWER) {
            i += 1;
        }
        if i == start {
            return None;
        }
        let sep = i;
        while i < b.len() && is(b[i], SEPARATOR) {
            i += 1;
        }
        let s = &b[sep..i];
        if s.is_empty() {
            return Some(i);
        }
        if !(s == b"." || s == b"_" || s == b"__" || s.iter().all(|&c| c == b'-')) {
            return None;
        }
    }
}

/// A tag to the end of the reference: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
fn is_plain_tag(t: &[u8]) -> bool {
    t.len() <= 128 && t.first().is_some_and(|&c| is(c, TAG_START)) && t.iter().all(|&c| is(c, TAG))
}

/// Byte classes of the one-pass reading, as bits of [`CLASSES`].
const LOWER: u8 = 1; // a path component's letters and digits
const SEPARATOR: u8 = 2; // what joins them: `.`, `_`, `-`
const HOST: u8 = 4; // a host label's letters, digits and `-`
const MARK: u8 = 8; // what makes a first component a registry: `.`, `:`, upper case
const TAG_START: u8 = 16; // a tag's first character: letters, digits, `_`
const TAG: u8 = 32; // a tag's others: those and `.`, `-`

/// Whether `b` is in `class`: one load, where the tests would be several comparisons.
fn is(b: u8, class: u8) -> bool {
    CLASSES[b as usize] & class != 0
}

/// The classes of each byte.
static CLASSES: [u8; 256] = {
    let mut table = [0; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        let lower = b.is_ascii_lowercase() || b.is_ascii_digit();
        let word = b.is_ascii_alphanumeric() || b == b'_';
        let bits = [
            (lower, LOWER),
            (matches!(b, b'.' | b'_' | b'-'), SEPARATOR),
            (b.is_ascii_alphanumeric() || b == b'-', HOST),
            (matches!(b, b'.' | b':') || b.is_ascii_uppercase(), MARK),
            (word, TAG_START),
            (word || b == b'.' || b == b'-', TAG),
        ];
        let mut k = 0;
        while k < bits.len() {
            if bits[k].0 {
                table[c] |= bits[k].1;
            }
            k += 1;
        }
        c += 1;
    }
    table
};

/// The first character a reference may not hold: a byte scan, since every allowed character
/// is ASCII (the first byte refused starts the character refused, as every byte before it is
/// a whole ASCII character).
fn first_refused_char(image: &str) -> Option<char> {
    let i = image.bytes().position(|b| !ALLOWED[b as usize])?;
    image[i..].chars().next()
}

/// The bytes a reference may hold: letters, digits and `. _ - / : @ [ ]`.
static ALLOWED: [bool; 256] = {
    let mut table = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        table[c] = b.is_ascii_alphanumeric()
            || matches!(b, b'.' | b'_' | b'-' | b'/' | b':' | b'@' | b'[' | b']');
        c += 1;
    }
    table
};

fn malformed(why: String) -> Option<ImageProblem> {
    Some(ImageProblem::Malformed(why))
}

/// Why `tag` is not a valid tag.
fn tag_problem(tag: &str) -> Option<String> {
    let first_ok = tag
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    let rest_ok = tag
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if tag.is_empty() {
        Some("the tag after `:` is empty".into())
    } else if !first_ok || !rest_ok {
        Some(format!(
            "the tag `{tag}` must start with a letter, a digit or `_` and hold only letters, digits, `_`, `.` and `-`"
        ))
    } else if tag.len() > 128 {
        Some(format!(
            "the tag is {} characters long; at most 128 are allowed",
            tag.len()
        ))
    } else {
        None
    }
}

/// Why `name` (registry and path) is not a valid name.
fn name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("the name before the tag is empty".into());
    }
    if name.len() > MAX_NAME {
        return Some(format!(
            "the name is {} characters long; at most {MAX_NAME} are allowed",
            name.len()
        ));
    }
    // The path's components: all of them, or those after the registry.
    let mut path = name;
    if let Some((first, after)) = name.split_once('/') {
        let is_registry = first.bytes().any(|b| b == b'.' || b == b':')
            || first == "localhost"
            || first.bytes().any(|b| b.is_ascii_uppercase());
        if is_registry {
            if !is_registry_name(first) {
                return Some(format!(
                    "the registry `{first}` is not a host name with an optional port"
                ));
            }
            path = after;
        }
    }
    for p in path.split('/') {
        if p.is_empty() {
            return Some("the name has an empty component (`//` or a `/` at an end)".into());
        }
        if p.chars().any(|c| c.is_ascii_uppercase()) {
            return Some(format!(
                "`{p}` has upper-case letters; image names are lower-case"
            ));
        }
        if !is_path_component(p) {
            return Some(format!(
                "`{p}` is not a name component: lower-case letters and digits, joined by `.`, `_`, `__` or dashes"
            ));
        }
    }
    None
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`.
fn is_path_component(p: &str) -> bool {
    let b = p.as_bytes();
    let alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    let mut i = 0;
    loop {
        let start = i;
        while i < b.len() && alnum(b[i]) {
            i += 1;
        }
        if i == start {
            return false;
        }
        if i == b.len() {
            return true;
        }
        let sep = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let s = &p[sep..i];
        let ok = s == "." || s == "_" || s == "__" || s.bytes().all(|c| c == b'-');
        if !ok || i == b.len() {
            return false;
        }
    }
}

/// `host[:port]`: DNS labels joined by `.` (or an IPv6 address in brackets), then digits.
fn is_registry_name(r: &str) -> bool {
    let (host, port) = if let Some(end) = r.strip_prefix('[').and_then(|s| s.find(']')) {
        let host = &r[1..end + 1];
        let after = &r[end + 2..];
        if host.is_empty() || !host.chars().all(|c| c.is_ascii_hexdigit() || c == ':') {
            return false;
        }
        match after.strip_prefix(':') {
            Some(p) => return is_port(p),
            None => return after.is_empty(),
        }
    } else {
        match r.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (r, None),
        }
    };
    let label_ok = |l: &str| {
        !l.is_empty()
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')
    };
    host.split('.').all(label_ok) && port.is_none_or(is_port)
}

fn is_port(p: &str) -> bool {
    !p.is_empty() && p.chars().all(|c| c.is_ascii_digit())
}

/// `algorithm:hex`: `[A-Za-z][A-Za-z0-9]*` parts joined by `+`, `.`, `_` or `-`, and at least 32
/// hex digits.
fn is_digest(d: &str) -> bool {
    let Some((algo, hex)) = d.split_once(':') else {
        return false;
    };
    let algo_ok = !algo.is_empty()
        && algo.split(['+', '.', '_', '-']).all(|part| {
            part.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && part.chars().all(|c| c.is_ascii_alphanumeric())
        });
    algo_ok && hex.len() >= 32 && hex.chars().all(|c| c.is_ascii_hexdigit())
}

#[cfg(test)]
#[path = "image_tests.rs"]
mod tests;
