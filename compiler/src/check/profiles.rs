//! `profile` declarations: their properties, and cycles of `use` between profiles (E413).

use super::props::Place;
use super::Checker;
use crate::diagnostics::ops;
use crate::resolve::{DeclId, DeclKind, ModuleId};
use flowc_grammar::ast::{Item, Profile, PropKind};

impl Checker<'_> {
    /// Checks a `profile` declaration: its properties, and that its `use`s form no cycle.
    pub fn check_profile(&mut self, m: ModuleId, p: &Profile) {
        let decl = self
            .program
            .module(m)
            .scope
            .get(&p.name.name)
            .map(|e| e.decl);
        let resolved = self.props(m, &p.props, Place::Profile);
        if let Some(decl) = decl {
            self.out.props.insert(decl, resolved);
            let mut path = vec![decl];
            self.profile_cycle(decl, &mut path);
        }
    }

    /// Reports a `use` cycle through `decl`, once, at the profile that closes it.
    fn profile_cycle(&mut self, decl: DeclId, path: &mut Vec<DeclId>) {
        let Item::Profile(p) = self.item(decl) else {
            return;
        };
        for prop in &p.props {
            let PropKind::Use(names) = &prop.kind else {
                continue;
            };
            for n in names {
                let Some(e) = self.program.module(decl.module).scope.get(&n.name).cloned() else {
                    continue;
                };
                if e.kind != DeclKind::Profile {
                    continue;
                }
                // Report a cycle once, from its smallest declaration.
                if e.decl == path[0] && path.iter().all(|d| *d >= path[0]) {
                    let names: Vec<String> = path
                        .iter()
                        .map(|d| {
                            self.item(*d)
                                .name()
                                .map(|n| n.name.clone())
                                .unwrap_or_default()
                        })
                        .collect();
                    let file = self.file(decl.module);
                    self.push(ops::profile_cycle(file, n.span, &names));
                    return;
                }
                if path.contains(&e.decl) || path.len() > 64 {
                    continue;
                }
                path.push(e.decl);
                self.profile_cycle(e.decl, path);
                path.pop();
            }
        }
    }
}
