//! Thumbnail file names from a template: `--name-template "{stem}_{size}.{ext}"`.
//!
//! The default keeps the original service's naming (`photo_200.jpg`, the size as asked, so a
//! re-run can tell from the names alone what is done). A template may name subfolders
//! (`{size}/{stem}.{ext}`); it can never name a path outside the output folder.

use std::fmt;
use std::path::{Component, Path, PathBuf};
use std::str::FromStr;

use crate::inputs::MAX_STEM_BYTES;
use crate::resize::{Size, MAX_SIDE};

use super::OutputFormat;

/// The longest file or folder name common file systems accept (ext4, XFS, APFS, NTFS in UTF-16
/// units; we count bytes, which is stricter).
const MAX_NAME_BYTES: usize = 255;

pub const DEFAULT_TEMPLATE: &str = "{stem}_{size}.{ext}";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Stem,
    Width,
    Height,
    Size,
    Ext,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Field(Field),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameTemplate {
    parts: Vec<Part>,
    text: String,
}

impl Default for NameTemplate {
    fn default() -> Self {
        DEFAULT_TEMPLATE
            .parse()
            .expect("the default template is valid")
    }
}

impl fmt::Display for NameTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// What fills a template for one thumbnail.
struct NameFields<'a> {
    pub stem: &'a str,
    pub size: Size,
    /// The thumbnail's own pixels; unknown before decoding.
    pub dimensions: Option<(u32, u32)>,
    pub ext: &'a str,
}

impl NameTemplate {
    /// Whether names depend on the thumbnail's pixel size, which is only known after decoding
    /// (so a re-run cannot tell from names alone that an input is done).
    pub fn needs_dimensions(&self) -> bool {
        self.has(Field::Width) || self.has(Field::Height)
    }

    /// Whether two different sizes always get different names.
    pub fn tells_sizes_apart(&self) -> bool {
        self.has(Field::Size) || self.needs_dimensions()
    }

    fn has(&self, field: Field) -> bool {
        self.parts.contains(&Part::Field(field))
    }

    /// The relative path of one thumbnail. A dimension not given is written as `unknown`, or
    /// without one makes the whole name unknown (`None`).
    fn render(&self, fields: &NameFields, unknown: Option<&str>) -> Option<String> {
        let mut out = String::new();
        for part in &self.parts {
            let side = |pick: fn((u32, u32)) -> u32| {
                fields
                    .dimensions
                    .map(|d| pick(d).to_string())
                    .or_else(|| unknown.map(str::to_string))
            };
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Field(Field::Stem) => out.push_str(fields.stem),
                Part::Field(Field::Size) => out.push_str(&fields.size.to_string()),
                Part::Field(Field::Ext) => out.push_str(fields.ext),
                Part::Field(Field::Width) => out.push_str(&side(|d| d.0)?),
                Part::Field(Field::Height) => out.push_str(&side(|d| d.1)?),
            }
        }
        Some(out)
    }

    /// The name of a thumbnail, for writing.
    pub fn name(
        &self,
        stem: &str,
        size: Size,
        dimensions: (u32, u32),
        format: OutputFormat,
    ) -> String {
        self.render(
            &NameFields {
                stem,
                size,
                dimensions: Some(dimensions),
                ext: format.extension(),
            },
            None,
        )
        .expect("dimensions are given")
    }

    /// The thumbnail's name without decoding: `None` if the name needs its dimensions.
    pub fn predicted_name(&self, stem: &str, size: Size, format: OutputFormat) -> Option<String> {
        self.render(
            &NameFields {
                stem,
                size,
                dimensions: None,
                ext: format.extension(),
            },
            None,
        )
    }

    /// Where the thumbnail would be without decoding: `None` if the name needs its dimensions.
    pub fn predicted(
        &self,
        dir: &Path,
        stem: &str,
        size: Size,
        format: OutputFormat,
    ) -> Option<PathBuf> {
        self.predicted_name(stem, size, format)
            .map(|name| dir.join(name))
    }

    /// The names of `stem`'s thumbnails as a pattern for the dry run: `*` for what only the
    /// image can tell (its extension when the format follows the content, its pixel size).
    pub fn pattern(
        &self,
        dir: &Path,
        stem: &str,
        sizes: &[Size],
        format: Option<OutputFormat>,
    ) -> String {
        self.patterns(dir, stem, sizes, format).join(" ")
    }

    /// [`NameTemplate::pattern`], one path per size.
    pub fn patterns(
        &self,
        dir: &Path,
        stem: &str,
        sizes: &[Size],
        format: Option<OutputFormat>,
    ) -> Vec<String> {
        let ext = format.map_or("*", OutputFormat::extension);
        let names: Vec<String> = sizes
            .iter()
            .filter_map(|&size| {
                let fields = NameFields {
                    stem,
                    size,
                    dimensions: None,
                    ext,
                };
                self.render(&fields, Some("*"))
            })
            .map(|name| dir.join(name).display().to_string())
            .collect();
        names
    }
}

impl FromStr for NameTemplate {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_string()));
            }
            let close = rest[open..]
                .find('}')
                .ok_or_else(|| format!("'{text}': an unclosed {{"))?;
            let field = match &rest[open + 1..open + close] {
                "stem" => Field::Stem,
                "width" => Field::Width,
                "height" => Field::Height,
                "size" => Field::Size,
                "ext" => Field::Ext,
                other => {
                    return Err(format!(
                        "'{text}': unknown field {{{other}}} (known: {{stem}} {{width}} {{height}} {{size}} {{ext}})"
                    ))
                }
            };
            parts.push(Part::Field(field));
            rest = &rest[open + close + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        let template = NameTemplate {
            parts,
            text: text.to_string(),
        };
        if !template.has(Field::Stem) {
            return Err(format!(
                "'{text}' has no {{stem}}: every image would get the same name"
            ));
        }
        if !template.has(Field::Ext) {
            return Err(format!(
                "'{text}' has no {{ext}}: the extension follows the output format"
            ));
        }
        // Fields render to safe text (stems are sanitised), so the literal text decides whether
        // a name could leave the output folder.
        let sample = template
            .render(
                &NameFields {
                    stem: "s",
                    size: Size::width(1),
                    dimensions: Some((1, 1)),
                    ext: "e",
                },
                None,
            )
            .unwrap_or_default();
        let path = Path::new(&sample);
        let inside = !sample.contains('\\')
            && path.components().all(|c| matches!(c, Component::Normal(_)))
            && !sample.ends_with('/')
            && !sample.contains("//");
        if !inside {
            return Err(format!(
                "'{text}' must name a file inside the output folder (no leading /, no .., no empty folder)"
            ));
        }
        // A hidden name is no thumbnail anyone looks for, and `.thumbnail-maker-*.part` is what
        // the next run deletes as a stale temporary file.
        if sample.split('/').any(|part| part.starts_with('.')) {
            return Err(format!(
                "'{text}' makes hidden names (starting with .): temporary files look like that"
            ));
        }
        // With the longest stem we make (a disambiguating hash included) and the widest size,
        // every folder and file name must fit the 255 bytes file systems allow.
        let widest = Size {
            width: Some(MAX_SIDE),
            height: Some(MAX_SIDE),
        };
        let longest = template
            .render(
                &NameFields {
                    stem: &"x".repeat(MAX_STEM_BYTES + 9),
                    size: widest,
                    dimensions: Some((MAX_SIDE, MAX_SIDE)),
                    ext: "webp",
                },
                None,
            )
            .unwrap_or_default();
        if longest.split('/').any(|part| part.len() > MAX_NAME_BYTES) {
            return Err(format!(
                "'{text}' can make names longer than {MAX_NAME_BYTES} bytes, which file systems refuse"
            ));
        }
        Ok(template)
    }
}

#[cfg(test)]
mod tests {
    use super::NameTemplate;
    use crate::output::OutputFormat;
    use crate::resize::Size;

    #[test]
    fn default_keeps_the_original_naming() {
        let t = NameTemplate::default();
        let name = t.name("cat", Size::width(64), (64, 48), OutputFormat::Jpeg);
        assert_eq!(name, "cat_64.jpg");
        let boxed: Size = "200x150".parse().unwrap();
        assert_eq!(
            t.name("cat", boxed, (200, 133), OutputFormat::Png),
            "cat_200x150.png"
        );
        assert!(!t.needs_dimensions() && t.tells_sizes_apart());
    }

    #[test]
    fn every_field_fills_in() {
        let t: NameTemplate = "w{width}/{stem}-{height}-{size}.{ext}".parse().unwrap();
        let size = "x150".parse().unwrap();
        assert_eq!(
            t.name("a", size, (200, 150), OutputFormat::WebP),
            "w200/a-150-x150.webp"
        );
        assert!(t.needs_dimensions());
        let dir = std::path::Path::new("out");
        assert_eq!(t.pattern(dir, "a", &[size], None), "out/w*/a-*-x150.*");
        let sizes = [Size::width(32), Size::width(64)];
        let pattern = NameTemplate::default().pattern(dir, "a", &sizes, Some(OutputFormat::Png));
        assert_eq!(pattern, "out/a_32.png out/a_64.png");
    }

    #[test]
    fn templates_that_collide_or_escape_are_refused() {
        let err = |t: &str| t.parse::<NameTemplate>().unwrap_err();
        assert!(err("thumb_{size}.{ext}").contains("no {stem}"));
        assert!(err("{stem}.jpg").contains("no {ext}"));
        assert!(err("{stem}_{px}.{ext}").contains("unknown field {px}"));
        assert!(err("{stem.{ext}").contains("unknown field"));
        assert!(err("{stem}_{size").contains("unclosed"));
        for escape in [
            "../{stem}.{ext}",
            "/tmp/{stem}.{ext}",
            "a/../../{stem}.{ext}",
            "a//{stem}.{ext}",
            "a\\{stem}.{ext}",
        ] {
            assert!(err(escape).contains("inside the output folder"), "{escape}");
        }
        assert!(
            "{stem}.{ext}".parse::<NameTemplate>().is_ok(),
            "one size needs no size field"
        );
        for hidden in [
            ".{stem}.{ext}",
            "a/.thumbnail-maker-{stem}.{ext}.part",
            ".x/{stem}.{ext}",
        ] {
            assert!(err(hidden).contains("hidden names"), "{hidden}");
        }
        let long = format!("{}{{stem}}_{{size}}.{{ext}}", "t".repeat(140));
        assert!(err(&long).contains("longer than 255 bytes"));
        assert!(format!("{}/{{stem}}_{{size}}.{{ext}}", "t".repeat(200))
            .parse::<NameTemplate>()
            .is_ok());
    }
}
