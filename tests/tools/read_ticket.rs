//! `read-ticket FILE`: the QR addresses of the tickets in a captured ESC/POS stream, one per line
//! (the virtual-Pi test reads its network printer's capture with it).

fn main() -> std::process::ExitCode {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: read-ticket CAPTURE.bin");
        return std::process::ExitCode::from(2);
    };
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("read-ticket: {}: {e}", path.to_string_lossy());
            return std::process::ExitCode::FAILURE;
        }
    };
    match hallq_tests::ticket_qr::qr_texts(&bytes) {
        Ok(tickets) => {
            for texts in tickets {
                println!("{}", texts.join(" "));
            }
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("read-ticket: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
