//! Loading the import closure and building each module's scope.
//!
//! Starting from the root files, every `import` is followed: `std.*` modules come from
//! `flowc-stdlib`, file imports are resolved relative to the importing file and read through the
//! [`FileLoader`]. Each file is parsed once. Then every module gets a scope mapping local names
//! to declarations (its own, and the names it imports); duplicates, unknown imported names and
//! import cycles are reported here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use crate::maps::IndexMap;
use petgraph::graph::DiGraph;

use crate::diagnostics::{foreign, names, syntax, Diagnostic};
use crate::source::{resolve_relative, FileId, FileLoader, Origin, Sources};
use flowc_grammar::ast::{Ident, ImportSource, Item, Module, SecretKind, StrLit};
use flowc_grammar::{parse, Parse, Span};

/// Index of a module in [`Program::modules`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ModuleId(pub u32);

/// A declaration: a module and the index of the item in its AST.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DeclId {
    /// The module declaring it.
    pub module: ModuleId,
    /// The index in that module's `items`.
    pub item: u32,
}

/// What kind of declaration a name refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeclKind {
    /// `schema`.
    Schema,
    /// `secret`.
    Secret,
    /// `config` (a Kubernetes ConfigMap's key).
    Config,
    /// `volume` (a persistent volume claim).
    Volume,
    /// `profile`.
    Profile,
    /// `step` or `builtin step`.
    Step,
    /// `pipeline`.
    Pipeline,
}

impl DeclKind {
    /// The kind with an article, for messages.
    pub fn a(self) -> &'static str {
        match self {
            DeclKind::Schema => "a schema",
            DeclKind::Secret => "a secret",
            DeclKind::Config => "a config",
            DeclKind::Volume => "a volume",
            DeclKind::Profile => "a profile",
            DeclKind::Step => "a step",
            DeclKind::Pipeline => "a pipeline",
        }
    }

    fn of(item: &Item) -> Option<DeclKind> {
        Some(match item {
            Item::Schema(_) => DeclKind::Schema,
            Item::Secret(s) if s.kind == SecretKind::Config => DeclKind::Config,
            Item::Secret(s) if s.kind == SecretKind::Volume => DeclKind::Volume,
            Item::Secret(_) => DeclKind::Secret,
            Item::Profile(_) => DeclKind::Profile,
            Item::Step(_) => DeclKind::Step,
            Item::Pipeline(_) => DeclKind::Pipeline,
            Item::Import(_) | Item::Build(_) | Item::Error(_) => return None,
        })
    }
}

/// A name visible in a module.
#[derive(Clone, Debug)]
pub struct ScopeEntry {
    /// The declaration it refers to.
    pub decl: DeclId,
    /// Its kind.
    pub kind: DeclKind,
    /// Where the name is introduced in this module (the declaration or the import).
    pub span: Span,
    /// For imported names: the index of the import item and of the name in it.
    pub import: Option<(u32, u32)>,
}

/// One parsed module.
#[derive(Clone, Debug)]
pub struct ModuleData {
    /// Its source file.
    pub file: FileId,
    /// Its syntax tree (shared: a standard-library module is parsed once per process).
    pub ast: Arc<Module>,
    /// Whether it is a standard-library module.
    pub is_std: bool,
    /// Names in scope, in declaration order.
    pub scope: IndexMap<String, ScopeEntry>,
    /// For each import item index, the module it reads (None when it could not be loaded).
    pub imports: BTreeMap<u32, Option<ModuleId>>,
    /// Names whose declaration or import is broken (already reported): uses of them are not
    /// reported again as unknown.
    pub broken: Vec<String>,
    /// For a module an importer made of a foreign file: that file and the import.
    pub foreign: Option<ForeignSource>,
}

/// Where a module generated from a foreign file comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ForeignSource {
    /// The kind, such as `kfp`.
    pub kind: String,
    /// The foreign file itself (its text, as read).
    pub file: FileId,
    /// The path string of the first import that read it.
    pub import: (FileId, Span),
}

/// The import closure of the root files, parsed and scoped.
#[derive(Clone, Debug, Default)]
pub struct Program {
    /// All source files.
    pub sources: Sources,
    /// All modules; module `i` is file `modules[i].file`.
    pub modules: Vec<ModuleData>,
    /// The modules of the root files, in the order given.
    pub roots: Vec<ModuleId>,
}

impl Program {
    /// The module with id `id`.
    pub fn module(&self, id: ModuleId) -> &ModuleData {
        &self.modules[id.0 as usize]
    }

    /// The item a declaration id points at.
    pub fn item(&self, decl: DeclId) -> &Item {
        &self.module(decl.module).ast.items[decl.item as usize]
    }

    /// The file of a module.
    pub fn file(&self, id: ModuleId) -> FileId {
        self.module(id).file
    }

    /// Moves diagnostics found in generated modules to the import that read their foreign file:
    /// the generated text is in no file the user can open.
    pub fn relocate_foreign(&self, diags: &mut [Diagnostic]) {
        let program = self;
        for d in diags.iter_mut() {
            for label in &mut d.labels {
                let Some(m) = program.module_of_file(label.file) else {
                    continue;
                };
                let Some(foreign) = &program.module(m).foreign else {
                    continue;
                };
                let name = program.sources.get(foreign.file).name();
                label.file = foreign.import.0;
                label.span = foreign.import.1;
                label.message = if label.message.is_empty() {
                    format!("in what is imported from `{name}`")
                } else {
                    format!("{} (in what is imported from `{name}`)", label.message)
                };
            }
        }
    }

    /// The module of a file.
    pub fn module_of_file(&self, file: FileId) -> Option<ModuleId> {
        self.modules
            .iter()
            .position(|m| m.file == file)
            .map(|i| ModuleId(i as u32))
    }
}

/// Loads, parses and scopes the import closure of `roots`.
pub fn load(loader: &dyn FileLoader, roots: &[PathBuf], diags: &mut Vec<Diagnostic>) -> Program {
    let mut program = Program::default();
    for root in roots {
        let id = load_origin(
            &mut program,
            loader,
            Origin::File(root.clone()),
            None,
            diags,
        );
        if let Some(id) = id {
            if !program.roots.contains(&id) {
                program.roots.push(id);
            }
        }
    }
    report_import_cycles(&program, diags);
    for i in 0..program.modules.len() {
        build_scope(&mut program, ModuleId(i as u32), diags);
    }
    program
}

/// The syntax tree of a standard-library module. The modules are compiled into the binary and
/// never change, so each is parsed once per process: the language server re-checks a file on
/// every keystroke, with its standard-library imports.
fn std_parse(name: &str, text: &str) -> (Arc<Module>, Vec<flowc_grammar::SyntaxError>) {
    type Cache = Mutex<BTreeMap<String, (Arc<Module>, Vec<flowc_grammar::SyntaxError>)>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Cache::default);
    let mut cache = cache
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    cache
        .entry(name.to_string())
        .or_insert_with(|| {
            let Parse { module, errors } = parse(text);
            (Arc::new(module), errors)
        })
        .clone()
}

/// Loads one origin (and, recursively, its imports) unless already loaded.
/// `from` is the import that asked for it, for reporting a failure.
fn load_origin(
    program: &mut Program,
    loader: &dyn FileLoader,
    origin: Origin,
    from: Option<(FileId, Span)>,
    diags: &mut Vec<Diagnostic>,
) -> Option<ModuleId> {
    if let Some(file) = program.sources.find(&origin) {
        return program.module_of_file(file);
    }
    let (text, is_std) = match &origin {
        Origin::Std(name) => (flowc_stdlib::source(name)?.to_string(), true),
        Origin::Imported(_) => return None,
        Origin::File(path) => match loader.load(path) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => (text, false),
                Err(e) => {
                    let valid = e.utf8_error().valid_up_to();
                    let bytes = e.into_bytes();
                    // Show the text with U+FFFD for bad bytes, and point at the first one.
                    let lossy = String::from_utf8_lossy(&bytes).into_owned();
                    let file = program.sources.add(origin.clone(), lossy);
                    diags.push(syntax::invalid_utf8(
                        file,
                        Span::new(valid, valid + char::REPLACEMENT_CHARACTER.len_utf8()),
                        bytes[valid],
                    ));
                    program.modules.push(ModuleData {
                        file,
                        ast: Arc::default(),
                        is_std: false,
                        scope: IndexMap::default(),
                        imports: BTreeMap::new(),
                        broken: Vec::new(),
                        foreign: None,
                    });
                    return Some(ModuleId(program.modules.len() as u32 - 1));
                }
            },
            Err(why) => {
                if let Some((file, span)) = from {
                    diags.push(names::import_not_found(file, span, &display(path), &why));
                }
                return None;
            }
        },
    };
    let file = program.sources.add(origin.clone(), text);
    let text = program.sources.get(file).text.clone();
    let parsed = match &origin {
        Origin::Std(name) => std_parse(name, &text),
        Origin::File(_) | Origin::Imported(_) => {
            let Parse { module, errors } = parse(&text);
            (Arc::new(module), errors)
        }
    };
    let (ast, errors) = parsed;
    let parsed_items_errors: Vec<Span> = ast
        .items
        .iter()
        .filter_map(|i| match i {
            Item::Error(s) => Some(*s),
            _ => None,
        })
        .collect();
    for e in &errors {
        diags.push(syntax::syntax_error(file, e));
    }
    let id = ModuleId(program.modules.len() as u32);
    program.modules.push(ModuleData {
        file,
        ast,
        is_std,
        scope: IndexMap::default(),
        imports: BTreeMap::new(),
        broken: broken_names(&text, &parsed_items_errors),
        foreign: None,
    });

    // Follow the imports.
    let imports: Vec<(u32, Option<Ident>, ImportSource)> = program.modules[id.0 as usize]
        .ast
        .items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| match item {
            Item::Import(imp) => Some((i as u32, imp.kind.clone(), imp.source.clone())),
            _ => None,
        })
        .collect();
    for (index, kind, source) in imports {
        if let (Some(kind), ImportSource::File(lit)) = (&kind, &source) {
            let target = load_foreign(program, loader, (file, &origin), kind, lit, diags);
            program.modules[id.0 as usize].imports.insert(index, target);
            continue;
        }
        let target = match &source {
            ImportSource::Module { path, span } => {
                if flowc_stdlib::source(path).is_none() {
                    let known: Vec<&str> = flowc_stdlib::files().iter().map(|(m, _)| *m).collect();
                    diags.push(names::unknown_std_module(file, *span, path, &known));
                    None
                } else {
                    load_origin(program, loader, Origin::Std(path.clone()), None, diags)
                }
            }
            ImportSource::File(lit) => {
                let importer = match &origin {
                    Origin::File(p) | Origin::Imported(p) => p.clone(),
                    Origin::Std(_) => PathBuf::from("std"),
                };
                let path = resolve_relative(&importer, &lit.value);
                load_origin(
                    program,
                    loader,
                    Origin::File(path),
                    Some((file, lit.span)),
                    diags,
                )
            }
        };
        program.modules[id.0 as usize].imports.insert(index, target);
    }
    Some(id)
}

/// Loads the foreign file of `import KIND "PATH" (...)` in `importer` (its file and origin)
/// through the loader's importer, and parses what it makes of it as a module.
fn load_foreign(
    program: &mut Program,
    loader: &dyn FileLoader,
    importer: (FileId, &Origin),
    kind: &Ident,
    lit: &StrLit,
    diags: &mut Vec<Diagnostic>,
) -> Option<ModuleId> {
    let (file, from) = importer;
    let base = match from {
        Origin::File(p) | Origin::Imported(p) => p.clone(),
        Origin::Std(_) => PathBuf::from("std"),
    };
    let path = resolve_relative(&base, &lit.value);
    let Some(foreign) = loader
        .foreign()
        .filter(|f| f.kinds().contains(&kind.name.as_str()))
    else {
        let known = loader
            .foreign()
            .map(|f| f.kinds().to_vec())
            .unwrap_or_default();
        diags.push(foreign::unknown_import_kind(
            file, kind.span, &kind.name, &known,
        ));
        return None;
    };
    let origin = Origin::Imported(path.clone());
    if let Some(done) = program.sources.find(&origin) {
        return program.module_of_file(done);
    }
    let text = loader
        .load(&path)
        .and_then(|bytes| String::from_utf8(bytes).map_err(|_| "it is not UTF-8 text".to_string()));
    let text = match text {
        Ok(text) => text,
        Err(why) => {
            diags.push(foreign::foreign_file_unreadable(
                file,
                lit.span,
                &display(&path),
                &why,
            ));
            return None;
        }
    };
    let file_name = path
        .file_name()
        .map_or_else(|| display(&path), |n| n.to_string_lossy().into_owned());
    let converted = foreign.convert(&kind.name, &file_name, &text);
    let yaml = program.sources.add(Origin::File(path.clone()), text);
    let yaml_text = program.sources.get(yaml).text.clone();
    for p in &converted.problems {
        let span = crate::foreign::span_at(&yaml_text, p.line, p.col);
        diags.push(foreign::foreign_problem(
            p,
            (yaml, span, &display(&path)),
            (file, lit.span),
        ));
    }
    if let Some(why) = &converted.not_importable {
        diags.push(foreign::foreign_not_importable(
            file,
            lit.span,
            &display(&path),
            why,
        ));
        return None;
    }
    let source = converted.source?;
    let generated = program.sources.add(origin, source);
    let Parse { module, errors } = parse(&program.sources.get(generated).text);
    for e in &errors {
        diags.push(syntax::syntax_error(generated, e));
    }
    program.modules.push(ModuleData {
        file: generated,
        ast: Arc::new(module),
        is_std: false,
        scope: IndexMap::default(),
        imports: BTreeMap::new(),
        broken: Vec::new(),
        foreign: Some(ForeignSource {
            kind: kind.name.clone(),
            file: yaml,
            import: (file, lit.span),
        }),
    });
    Some(ModuleId(program.modules.len() as u32 - 1))
}

/// The names declared by declarations that did not parse (`step name(...` → `name`).
fn broken_names(text: &str, errors: &[Span]) -> Vec<String> {
    let mut out = Vec::new();
    for span in errors {
        let chunk = &text[span.range()];
        let mut words = chunk
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .filter(|w| !w.is_empty());
        match words.next() {
            Some("builtin") => {
                words.next();
            }
            Some("schema" | "secret" | "config" | "profile" | "step" | "pipeline") => {}
            _ => continue,
        }
        if let Some(name) = words.next() {
            out.push(name.to_string());
        }
    }
    out
}

fn display(p: &Path) -> String {
    p.to_string_lossy().replace('\\', "/")
}

fn report_import_cycles(program: &Program, diags: &mut Vec<Diagnostic>) {
    let mut graph = DiGraph::<u32, u32>::new();
    let nodes: Vec<_> = (0..program.modules.len())
        .map(|i| graph.add_node(i as u32))
        .collect();
    for (i, m) in program.modules.iter().enumerate() {
        for (item, target) in &m.imports {
            if let Some(t) = target {
                graph.add_edge(nodes[i], nodes[t.0 as usize], *item);
            }
        }
    }
    for scc in petgraph::algo::tarjan_scc(&graph) {
        let self_loop = scc.len() == 1 && graph.contains_edge(scc[0], scc[0]);
        if scc.len() < 2 && !self_loop {
            continue;
        }
        let mut members: Vec<u32> = scc.iter().map(|n| graph[*n]).collect();
        members.sort_unstable();
        let cycle: Vec<String> = members
            .iter()
            .map(|m| {
                program
                    .sources
                    .get(program.modules[*m as usize].file)
                    .name()
            })
            .collect();
        // Report at every import that stays inside the cycle, so each file shows it.
        for &m in &members {
            let module = &program.modules[m as usize];
            for (item, target) in &module.imports {
                if target.is_some_and(|t| members.contains(&t.0)) {
                    let Item::Import(imp) = &module.ast.items[*item as usize] else {
                        continue;
                    };
                    diags.push(names::import_cycle(module.file, imp.source.span(), &cycle));
                }
            }
        }
    }
}

fn build_scope(program: &mut Program, id: ModuleId, diags: &mut Vec<Diagnostic>) {
    let module = &program.modules[id.0 as usize];
    let file = module.file;
    // Sized once for the module's declarations (nearly every item is one), instead of grown
    // by doubling, which copies the entries and leaves every smaller table behind.
    let mut scope: IndexMap<String, ScopeEntry> =
        IndexMap::with_capacity_and_hasher(module.ast.items.len(), Default::default());
    let mut add = |name: &str, entry: ScopeEntry, diags: &mut Vec<Diagnostic>| {
        if let Some(prev) = scope.get(name) {
            diags.push(names::duplicate_declaration(
                file, entry.span, prev.span, name,
            ));
        } else {
            scope.insert(name.to_string(), entry);
        }
    };
    for (i, item) in module.ast.items.iter().enumerate() {
        if let (Some(kind), Some(name)) = (DeclKind::of(item), item.name()) {
            if name.name.is_empty() {
                continue;
            }
            add(
                &name.name,
                ScopeEntry {
                    decl: DeclId {
                        module: id,
                        item: i as u32,
                    },
                    kind,
                    span: name.span,
                    import: None,
                },
                diags,
            );
        }
    }
    let mut broken = module.broken.clone();
    for (i, item) in module.ast.items.iter().enumerate() {
        let Item::Import(imp) = item else { continue };
        let Some(Some(target)) = module.imports.get(&(i as u32)) else {
            broken.extend(imp.names.iter().map(|n| n.local().name.clone()));
            continue;
        };
        if *target == id {
            // A file importing itself: the import cycle is reported; its names are its own.
            continue;
        }
        let target_module = &program.modules[target.0 as usize];
        for (n, name) in imp.names.iter().enumerate() {
            let found = target_module
                .ast
                .items
                .iter()
                .enumerate()
                .find(|(_, it)| it.name().is_some_and(|x| x.name == name.name.name));
            match found.and_then(|(j, it)| DeclKind::of(it).map(|k| (j, k))) {
                Some((j, kind)) => add(
                    &name.local().name,
                    ScopeEntry {
                        decl: DeclId {
                            module: *target,
                            item: j as u32,
                        },
                        kind,
                        span: name.local().span,
                        import: Some((i as u32, n as u32)),
                    },
                    diags,
                ),
                None => {
                    broken.push(name.local().name.clone());
                    let candidates = target_module
                        .ast
                        .items
                        .iter()
                        .filter_map(|it| it.name().map(|n| n.name.as_str()));
                    let source_name = match &imp.source {
                        ImportSource::Module { path, .. } => path.clone(),
                        ImportSource::File(s) => s.value.clone(),
                    };
                    diags.push(if target_module.foreign.is_some() {
                        foreign::foreign_name_not_found(
                            file,
                            name.name.span,
                            &name.name.name,
                            &source_name,
                            candidates,
                        )
                    } else {
                        names::imported_name_not_found(
                            file,
                            name.name.span,
                            &name.name.name,
                            &source_name,
                            candidates,
                        )
                    });
                }
            }
        }
    }
    program.modules[id.0 as usize].scope = scope;
    program.modules[id.0 as usize].broken = broken;
}
