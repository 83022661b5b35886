//! Emitters: the desired state turned into the files each platform consumes.
//!
//! [`validate`] runs after resolution and before anything is written: a value that a target
//! format cannot carry becomes a diagnostic at the profile (or catalog) line it came from.
//! [`emit`] then produces the platform's files for the output tree.

pub mod linux;
pub mod network;
pub mod windows;

use crate::catalog::taxonomy::Family;
use crate::diag::{Code, Diagnostic};
use crate::model::DesiredState;
use crate::output::TreeFiles;

/// Problems that only a target format reveals, each at the setting's origin.
pub fn validate(state: &DesiredState) -> Vec<Diagnostic> {
    let problems = match state.profile.platform.family {
        Family::Windows => windows::emit::validate(state),
        Family::Linux => linux::validate(state),
        Family::Network => network::validate(state),
    };
    let platform = match state.profile.platform.family {
        Family::Windows => "Windows",
        Family::Linux => "Linux",
        Family::Network => "the network device",
    };
    problems
        .into_iter()
        .map(|(setting, message)| {
            let d = Diagnostic::error(
                Code::InvalidValue,
                format!(
                    "control {} cannot be written for {platform}: {message}",
                    setting.control
                ),
            );
            // Point at the parameter whose value the message quotes, else at the first one.
            let quoted = setting.params.iter().find_map(|(name, origin)| {
                let value = state.params.iter().find(|p| &p.name == name)?;
                let mut texts = Vec::new();
                collect_strings(&value.value, &mut texts);
                texts
                    .iter()
                    .any(|t| {
                        !t.is_empty()
                            && (message.contains(t.as_str())
                                || message.contains(&t.escape_debug().to_string()))
                    })
                    .then_some(*origin)
                    .flatten()
            });
            match quoted.or_else(|| setting.params.iter().find_map(|(_, origin)| *origin)) {
                Some(span) => d
                    .at(span, "this value")
                    .also(setting.origin, "in this setting"),
                None => d.at(setting.origin, "in this setting"),
            }
        })
        .collect()
}

fn collect_strings(value: &crate::catalog::param::ParamValue, out: &mut Vec<String>) {
    use crate::catalog::param::ParamValue;
    match value {
        ParamValue::String(s) => out.push(s.clone()),
        ParamValue::List(items) => items.iter().for_each(|i| collect_strings(i, out)),
        _ => {}
    }
}

/// The platform files of one profile, each handed to `put` as it is made (paths relative to
/// the profile's output folder, in no particular order).
pub fn emit_into(
    state: &DesiredState,
    put: &mut dyn FnMut(String, Vec<u8>) -> Result<(), String>,
) -> Result<(), String> {
    match state.profile.platform.family {
        Family::Windows => windows::emit::emit_into(state, put),
        Family::Linux | Family::Network => {
            for (path, bytes) in emit(state)? {
                put(path, bytes)?;
            }
            Ok(())
        }
    }
}

/// The platform files of one profile (paths relative to its output folder).
pub fn emit(state: &DesiredState) -> Result<TreeFiles, String> {
    match state.profile.platform.family {
        Family::Windows => windows::emit::emit(state),
        Family::Linux => linux::emit::emit(state),
        Family::Network => network::emit(state),
    }
}

thread_local! {
    /// The first error an escape function met during the render running on this thread.
    static ESCAPE_ERROR: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Records an escape function's error for [`render_escaped`]; the first of a render wins.
pub(crate) fn escape_error(error: String) {
    ESCAPE_ERROR.with_borrow_mut(|slot| {
        if slot.is_none() {
            *slot = Some(error);
        }
    });
}

/// Renders the template `name` of a registry compiled once per process whose escape function
/// reports a value it cannot write through [`escape_error`]: a render error (prefixed with
/// `what`) first, else the first escape error, fails the render.
pub(crate) fn render_escaped(
    hb: &handlebars::Handlebars<'static>,
    name: &str,
    data: &handlebars::Context,
    what: &str,
) -> Result<String, String> {
    let (text, escape) = render_parts(hb, name, data, what)?;
    match escape {
        Some(e) => Err(e),
        None => Ok(text),
    }
}

/// [`render_escaped`] that leaves the escape error to the caller: the text with the first
/// escape error, or the render error.
pub(crate) fn render_parts(
    hb: &handlebars::Handlebars<'static>,
    name: &str,
    data: &handlebars::Context,
    what: &str,
) -> Result<(String, Option<String>), String> {
    ESCAPE_ERROR.with_borrow_mut(|slot| *slot = None);
    let rendered = hb.render_with_context(name, data);
    let escape = ESCAPE_ERROR.with_borrow_mut(Option::take);
    let text = rendered.map_err(|e| format!("{what}: {e}"))?;
    Ok((text, escape))
}

/// A strict registry holding one template, compiled by [`compile`] under `name` (`None`: as a
/// template rendered from its text) and registered as `key`, escaped by `escape`. `what` names
/// the template in the error.
pub(crate) fn one_template_registry(
    key: &str,
    text: &str,
    name: Option<&str>,
    escape: impl Fn(&str) -> String + Send + Sync + 'static,
    what: &str,
) -> Result<handlebars::Handlebars<'static>, String> {
    let mut hb = handlebars::Handlebars::new();
    hb.set_strict_mode(true);
    hb.register_escape_fn(escape);
    let template = compile(text, name).map_err(|e| format!("{what}: {e}"))?;
    hb.register_template(key, template);
    Ok(hb)
}

/// A template compiled under the name its render errors show (`name`, or none for a template
/// rendered as a string): the template that `Handlebars::register_template_string` (or
/// `render_template`) compiles, element for element and with the same source positions.
///
/// Handlebars' parser spends about a microsecond on each character of raw text, and the script
/// templates are almost all raw text. So the inner lines of each stretch of raw text (from the
/// first non-blank character after its first line end to the last one before its last line
/// end) are lifted out and replaced with a placeholder expression before parsing, and put back
/// into the raw text elements after. What the parser decides from raw text (standalone tags,
/// `~` whitespace control, indentation) depends only on the lines next to the tags and on the
/// blanks next to them, which stay. Should the placeholders not all come back where they were
/// put, the template is compiled as it is.
pub(crate) fn compile(
    text: &str,
    name: Option<&str>,
) -> Result<handlebars::Template, handlebars::TemplateError> {
    let parse = |source: &str| match name {
        Some(name) => handlebars::Template::compile_with_name(source, name.to_string()),
        None => handlebars::Template::compile(source),
    };
    let Some((source, lifted)) = lift_raw_text(text) else {
        return parse(text);
    };
    let Ok(mut template) = parse(&source) else {
        return parse(text);
    };
    let mut restore = Restore {
        lifted: &lifted,
        next: 0,
        lines: 0,
        ok: true,
    };
    restore.template(&mut template);
    if !restore.ok || restore.next != lifted.len() {
        return parse(text);
    }
    debug_assert!(
        parse(text).is_ok_and(|t| t == template),
        "a template compiled with its raw text lifted out differs"
    );
    Ok(template)
}

/// The name of the placeholder expressions of [`compile`] (followed by a number).
const LIFTED: &str = "hardbase_lifted_raw_text_";

/// `text` with the inner lines of each stretch of raw text replaced with a placeholder, and the
/// lifted texts with their line ends; `None` when there is nothing to lift or the text has what
/// this scan does not follow (raw blocks, escaped mustaches, the placeholder name).
fn lift_raw_text(text: &str) -> Option<(String, Vec<(String, usize)>)> {
    if text.contains("{{{{") || text.contains("\\{{") || text.contains(LIFTED) {
        return None;
    }
    let mut source = String::with_capacity(text.len() / 8);
    let mut lifted = Vec::new();
    let mut pos = 0;
    while pos < text.len() {
        let tag = text[pos..].find("{{").map_or(text.len(), |i| pos + i);
        let run = &text[pos..tag];
        match (run.find('\n'), run.rfind('\n')) {
            (Some(first), Some(last)) if first < last => {
                let inner = &run[first + 1..last];
                let start = first + 1 + (inner.len() - inner.trim_start().len());
                let end = first + 1 + inner.trim_end().len();
                if start < end {
                    source.push_str(&run[..start]);
                    source.push_str("{{");
                    source.push_str(LIFTED);
                    source.push_str(&lifted.len().to_string());
                    source.push_str("}}");
                    source.push_str(&run[end..]);
                    let middle = &run[start..end];
                    lifted.push((middle.to_string(), middle.matches('\n').count()));
                } else {
                    source.push_str(run);
                }
            }
            _ => source.push_str(run),
        }
        if tag == text.len() {
            break;
        }
        // The tag, to its end (a comment `{{!-- --}}` may hold `}}`).
        let close = if text[tag..].starts_with("{{!--") {
            "--}}"
        } else {
            "}}"
        };
        let end = text[tag + 2..]
            .find(close)
            .map_or(text.len(), |i| tag + 2 + i + close.len());
        source.push_str(&text[tag..end]);
        pos = end;
    }
    (!lifted.is_empty()).then_some((source, lifted))
}

/// Puts the texts [`lift_raw_text`] lifted back, in document order, and moves the source lines
/// of the elements after each one back down by its line ends.
struct Restore<'a> {
    lifted: &'a [(String, usize)],
    next: usize,
    /// Line ends lifted before the current element.
    lines: usize,
    ok: bool,
}

impl Restore<'_> {
    fn template(&mut self, template: &mut handlebars::Template) {
        use handlebars::template::TemplateElement;
        if template.elements.len() != template.mapping.len() {
            self.ok = false;
            return;
        }
        let elements = std::mem::take(&mut template.elements);
        let mapping = std::mem::take(&mut template.mapping);
        let mut pending_tail = false;
        for (mut element, mut at) in elements.into_iter().zip(mapping) {
            if let Some(k) = self.placeholder(&element) {
                // Lifted text goes into the raw text before it (its first line, always there).
                let Some(TemplateElement::RawString(before)) = template.elements.last_mut() else {
                    self.ok = false;
                    return;
                };
                if k != self.next {
                    self.ok = false;
                    return;
                }
                let (text, lines) = &self.lifted[k];
                before.push_str(text);
                self.next += 1;
                self.lines += lines;
                pending_tail = true;
                continue;
            }
            if pending_tail {
                // ...and so does the raw text after it (its last line, always there).
                pending_tail = false;
                let TemplateElement::RawString(after) = &element else {
                    self.ok = false;
                    return;
                };
                if let Some(TemplateElement::RawString(before)) = template.elements.last_mut() {
                    before.push_str(after);
                }
                continue;
            }
            at.0 += self.lines;
            self.children(&mut element);
            template.elements.push(element);
            template.mapping.push(at);
        }
        if pending_tail {
            self.ok = false;
        }
        // The raw texts grew as the lifted lines were put back; the compiled templates stay for
        // the whole run, so they keep only what they hold.
        for element in &mut template.elements {
            if let TemplateElement::RawString(text) = element {
                text.shrink_to_fit();
            }
        }
    }

    fn children(&mut self, element: &mut handlebars::template::TemplateElement) {
        use handlebars::template::TemplateElement::*;
        match element {
            HelperBlock(h) | HtmlExpression(h) | Expression(h) => {
                if let Some(t) = h.template.as_mut() {
                    self.template(t);
                }
                if let Some(t) = h.inverse.as_mut() {
                    self.template(t);
                }
            }
            DecoratorBlock(d) | DecoratorExpression(d) | PartialBlock(d) | PartialExpression(d) => {
                if let Some(t) = d.template.as_mut() {
                    self.template(t);
                }
            }
            _ => {}
        }
    }

    /// The number of a placeholder expression.
    fn placeholder(&self, element: &handlebars::template::TemplateElement) -> Option<usize> {
        match element {
            handlebars::template::TemplateElement::Expression(h)
                if h.params.is_empty() && h.hash.is_empty() && h.template.is_none() =>
            {
                h.name.as_name()?.strip_prefix(LIFTED)?.parse().ok()
            }
            _ => None,
        }
    }
}

/// Registers script templates (text, [whole, head, tail] keys) in `hb`: each split at its
/// top-level `{{> common}}` into head and tail where it has one (so the partial is rendered once
/// per profile), else whole under its own key. Returns which scripts were split; `what` names
/// the templates in errors.
pub(crate) fn register_scripts<const N: usize>(
    hb: &mut handlebars::Handlebars<'static>,
    scripts: [(&str, [&'static str; 3]); N],
    what: &str,
) -> Result<[bool; N], String> {
    let mut split = [false; N];
    for (i, (text, [whole, head, tail])) in scripts.into_iter().enumerate() {
        let template = compile(text, Some("script")).map_err(|e| format!("{what}: {e}"))?;
        match split_at_partial(template, "common") {
            Ok((before, after)) => {
                hb.register_template(head, before);
                hb.register_template(tail, after);
                split[i] = true;
            }
            Err(template) => hb.register_template(whole, template),
        }
    }
    Ok(split)
}

/// A template as the parts before and after its one `{{> partial}}`, when that is a plain
/// inclusion at the top level (no block around it, no parameters, no indentation), which
/// renders the partial with the template's own context: the template's text is then the first
/// part's, the partial's and the second part's (see [`SharedRender`]). Otherwise the template
/// as it is.
pub(crate) fn split_at_partial(
    template: handlebars::Template,
    partial: &str,
) -> Result<(handlebars::Template, handlebars::Template), handlebars::Template> {
    use handlebars::template::TemplateElement;
    let includes = |e: &TemplateElement| match e {
        TemplateElement::PartialExpression(d) => d.name.as_name() == Some(partial),
        _ => false,
    };
    let plain = |e: &TemplateElement| match e {
        TemplateElement::PartialExpression(d) => {
            d.params.is_empty()
                && d.hash.is_empty()
                && d.template.is_none()
                && d.indent.as_deref().unwrap_or("").is_empty()
        }
        _ => false,
    };
    let at: Vec<usize> = (0..template.elements.len())
        .filter(|i| includes(&template.elements[*i]))
        .collect();
    if at.len() != 1
        || !plain(&template.elements[at[0]])
        || template.mapping.len() != template.elements.len()
    {
        return Err(template);
    }
    let at = at[0];
    let mut before = template.clone();
    before.elements.truncate(at);
    before.mapping.truncate(at);
    let mut after = template;
    after.elements.drain(..=at);
    after.mapping.drain(..=at);
    Ok((before, after))
}

/// Scripts of one profile rendered from one context. A partial they include at the top level
/// gives the same text in each (the same template and context), so it is rendered once: a
/// script registered as the parts around it ([`split_at_partial`]) is its first part, that text
/// and its second part. As for a whole render, a render error stops at the first part that has
/// one; otherwise the first value that could not be escaped fails the script.
pub(crate) struct SharedRender {
    data: handlebars::Context,
    partial: &'static str,
    /// Prefixes render errors.
    what: &'static str,
    /// The partial rendered from `data`, with the first escape error.
    text: Option<(String, Option<String>)>,
}

impl SharedRender {
    pub(crate) fn new(
        data: serde_json::Value,
        partial: &'static str,
        what: &'static str,
    ) -> SharedRender {
        SharedRender {
            data: handlebars::Context::from(data),
            partial,
            what,
            text: None,
        }
    }

    /// The script registered whole as `whole`, or as the `(before, after)` parts around the
    /// partial.
    pub(crate) fn render(
        &mut self,
        hb: &handlebars::Handlebars<'static>,
        whole: &str,
        parts: Option<(&str, &str)>,
    ) -> Result<String, String> {
        self.render_with(hb, whole, parts, |pieces| pieces.concat())
    }

    /// [`SharedRender::render`], the script's text handed to `finish` as the pieces it is made
    /// of (the first part, the partial, the second part), so that it is not copied whole
    /// before `finish` makes the file's bytes of it.
    pub(crate) fn render_with<T>(
        &mut self,
        hb: &handlebars::Handlebars<'static>,
        whole: &str,
        parts: Option<(&str, &str)>,
        finish: impl FnOnce(&[&str]) -> T,
    ) -> Result<T, String> {
        let Some((head, tail)) = parts else {
            return render_escaped(hb, whole, &self.data, self.what).map(|text| finish(&[&text]));
        };
        let (before, before_error) = render_parts(hb, head, &self.data, self.what)?;
        let (partial, partial_error) = match &self.text {
            Some(text) => text,
            None => self
                .text
                .insert(render_parts(hb, self.partial, &self.data, self.what)?),
        };
        let (after, after_error) = render_parts(hb, tail, &self.data, self.what)?;
        if let Some(e) = before_error
            .or_else(|| partial_error.clone())
            .or(after_error)
        {
            return Err(e);
        }
        Ok(finish(&[&before, partial, &after]))
    }
}

#[cfg(test)]
mod tests {
    /// Every built-in template compiles to what Handlebars itself makes of it, and the lifted
    /// compile does lift (it is what makes the compile fast).
    #[test]
    fn lifted_compile_is_the_plain_compile() {
        let templates = [
            include_str!("../../templates/windows/common.ps1.hbs"),
            include_str!("../../templates/windows/bcd.ps1.hbs"),
            include_str!("../../templates/windows/Apply-Hardbase.ps1.hbs"),
            include_str!("../../templates/windows/Restore-Hardbase.ps1.hbs"),
            include_str!("../../templates/windows/Invoke-HardbaseAcceptance.ps1.hbs"),
            include_str!("../../templates/windows/Collect-Hardbase.ps1.hbs"),
            include_str!("../../templates/windows/Sign-Hardbase.ps1.hbs"),
            include_str!("../../templates/linux/apply.sh.hbs"),
            include_str!("../../templates/linux/restore.sh.hbs"),
            include_str!("../../templates/linux/common.sh.hbs"),
            include_str!("../../templates/linux/collect.sh.hbs"),
            include_str!("../../templates/checklist/checklist.md.hbs"),
        ];
        for text in templates {
            assert!(super::lift_raw_text(text).is_some());
            for name in [Some("script"), None] {
                let plain = match name {
                    Some(n) => handlebars::Template::compile_with_name(text, n.to_string()),
                    None => handlebars::Template::compile(text),
                }
                .unwrap();
                assert!(super::compile(text, name).unwrap() == plain);
            }
        }
    }

    /// The cases the scan must get right: standalone blocks, whitespace control, comments
    /// holding `}}`, blank stretches, indented partials, text at both ends.
    #[test]
    fn lifted_compile_keeps_whitespace_rules() {
        let cases = [
            "a\nb\nc",
            "{{#if x}}\n  one\n  two\n{{/if}}\n",
            "head\n  {{#each xs}}\n    line {{this}}\n    more\n    more\n  {{/each}}\ntail\n",
            "x\n\n\n   \n{{~#if y}}\n\n a\n b\n\n{{~/if~}}\n\n c\n d\n\n",
            "{{!-- a }} comment\nover\nlines --}}\nafter\nmore\nend {{z}}\n",
            "top\n  {{> common}}\nmiddle\nlines\nhere\n{{#unless x}}\nnot\nx\n{{else}}\nq\nr\n{{/unless}}",
            "crlf\r\n\t{{#if a}}\r\n\tone\r\n\ttwo\r\n\t{{/if}}\r\nend\r\n",
            "{{#each xs as |x|}}\n{{#if x}}\n deep\n deeper\n{{/if}}\n{{/each}}\nbottom\nline {{y}}",
            "one line {{a}} two {{b}}",
            "\n\n{{a}}\n\n",
        ];
        for text in cases {
            let plain = handlebars::Template::compile_with_name(text, "t".into()).unwrap();
            let lifted = super::compile(text, Some("t")).unwrap();
            assert!(lifted == plain, "{text:?}\n{lifted:#?}\n{plain:#?}");
        }
    }
}
