//! `personalize chat` and `personalize insights`: the interview in the
//! terminal (scriptable: questions on stdout, answers from stdin) and the
//! insights printed readably.

use crate::local::Local;
use anyhow::Result;
use converse::TurnView;
use ports::QueueName;
use std::io::{BufRead, Write};
use std::path::Path;

fn print_turn(out: &mut impl Write, view: &TurnView, json: bool) -> Result<()> {
    if json {
        writeln!(out, "{}", serde_json::to_string(view)?)?;
        out.flush()?;
        return Ok(());
    }
    for l in &view.learned {
        let mark = if l.new { "+" } else { "~" };
        writeln!(out, "  {mark} {}: {}", l.kind.as_str(), l.summary)?;
    }
    for p in &view.patterns {
        writeln!(out, "  * {}: \"{}\"", p.kind.as_str(), p.quote)?;
    }
    if let Some(notice) = &view.notice {
        writeln!(out, "  ({notice})")?;
    }
    let p = &view.progress;
    if view.turn > 0 {
        writeln!(
            out,
            "  [{}/{} answered, {} gap(s) left, fatigue {:.2}]",
            p.answered, p.budget, p.gaps_left, p.fatigue
        )?;
    }
    match (&view.question, &view.end_reason) {
        (Some(q), _) => writeln!(out, "\nQ{}: {}", p.answered + 1, q.text)?,
        (None, Some(reason)) => writeln!(out, "\nThe interview has ended: {reason}.")?,
        (None, None) => {}
    }
    out.flush()?;
    Ok(())
}

/// Runs the interview until it ends or stdin closes.
pub async fn run(data_dir: &Path, json: bool, budget: Option<u32>, session: Option<String>) -> Result<()> {
    let local = Local::open(data_dir).await?;
    let user = local.user().clone();
    let service = local.conversation();
    let mut view = match session {
        Some(id) => service.resume(&user, &id).await?,
        None => service.start(&user, budget).await?,
    };
    let mut out = std::io::stdout().lock();
    if !json && view.turn == 0 {
        writeln!(out, "Interview {} (answer on one line; an empty line skips).", view.session_id)?;
    }
    print_turn(&mut out, &view, json)?;
    let mut input = std::io::stdin().lock();
    while view.question.is_some() {
        let mut line = String::new();
        if input.read_line(&mut line)? == 0 {
            eprintln!("stdin closed: resume with `personalize chat --session {}`", view.session_id);
            break;
        }
        view = service.turn(&user, &view.session_id, line.trim_end_matches(['\n', '\r']), None).await?;
        print_turn(&mut out, &view, json)?;
    }
    // The new facts get their vectors now; the insights regenerate when
    // next asked for (`personalize insights`) or by the worker of `serve`.
    while local.pending_in(&[QueueName::Embed]).await? > 0 {
        local.step_queues(&[QueueName::Embed]).await?;
    }
    Ok(())
}

/// The insights, readably.
pub fn print_insights(v: &store::InsightVersion) {
    let i = &v.insights;
    println!("Insights v{} ({}, {})", v.version, v.generated_at, v.trigger);
    if let Some(t) = &i.trajectory {
        println!("\nTrajectory: {}", t.summary);
        for m in &t.domain_moves {
            println!("  move: {} → {}", m.from, m.to);
        }
    }
    if !i.strengths.is_empty() {
        println!("\nHidden strengths:");
        for s in &i.strengths {
            println!("  {} ({}, confidence {:.2}): {}", s.name, s.kind, s.confidence, s.reason);
            for q in s.evidence.quotes.iter().take(2) {
                println!("      \"{q}\"");
            }
        }
    }
    if !i.paths.is_empty() {
        println!("\nCareer paths:");
        for p in &i.paths {
            let have: Vec<&str> = p.have.iter().map(|h| h.skill.as_str()).collect();
            println!("  {} {} (distance {:.2}; {})", p.code, p.title, p.distance, p.relation);
            println!("      you have: {}", have.join(", "));
            if !p.missing.is_empty() {
                println!("      missing:  {}", p.missing.join(", "));
            }
        }
    }
    if !i.recommendations.is_empty() {
        println!("\nRecommendations:");
        for (n, r) in i.recommendations.iter().enumerate() {
            println!("  {}. {} ({:.2})", n + 1, r.action, r.score);
        }
    }
    if i.count() == 0 {
        println!("\nNothing to say yet: ingest a résumé or run `personalize chat`.");
    }
}
