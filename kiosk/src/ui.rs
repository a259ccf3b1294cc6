//! The Slint adapter: copies a [`StationView`] into the `Station` global and routes the screen's
//! callbacks to the [`Controller`]. The only file that knows both sides.

use std::rc::Rc;

use slint::{
    ComponentHandle, Image, Model, ModelRc, Rgb8Pixel, SharedPixelBuffer, SharedString, VecModel,
};

use super::controller::{Controller, Sink};
use super::view::StationView;
use super::{
    FeeLine, IssuedTicket, KioskWindow, Labels, Phrase, ServiceDetail, ServiceTile, Station,
};

fn ss(s: &str) -> SharedString {
    SharedString::from(s)
}

fn strings(v: &[String]) -> ModelRc<SharedString> {
    ModelRc::from(Rc::new(VecModel::from(
        v.iter().map(|s| ss(s)).collect::<Vec<_>>(),
    )))
}

fn model<T: Clone + 'static>(v: Vec<T>) -> ModelRc<T> {
    ModelRc::from(Rc::new(VecModel::from(v)))
}

/// Puts one whole screen on the window. UI thread only.
pub fn apply(ui: &KioskWindow, v: &StationView) {
    let g = ui.global::<Station>();
    let l = &v.labels;
    g.set_t(Labels {
        lang_switch: ss(&l.lang_switch),
        back: ss(&l.back),
        take_ticket: ss(&l.take_ticket),
        documents: ss(&l.documents),
        steps: ss(&l.steps),
        fees: ss(&l.fees),
        no_documents: ss(&l.no_documents),
        no_fees: ss(&l.no_fees),
        your_number: ss(&l.your_number),
        done: ss(&l.done),
        choose_service: ss(&l.choose_service),
        suggestion: ss(&l.suggestion),
        callback: ss(&l.callback),
        ended_title: ss(&l.ended_title),
        ended_body: ss(&l.ended_body),
        hotlines: ss(&l.hotlines),
        phone_label: ss(&l.phone_label),
        consent: ss(&l.consent),
        submit: ss(&l.submit),
        clear: ss(&l.clear),
        delete: ss(&l.delete),
        suggestion_title: ss(&l.suggestion_title),
        suggestion_hint: ss(&l.suggestion_hint),
        suggestion_phone: ss(&l.suggestion_phone),
        scan_button: ss(&l.scan_button),
        scan_title: ss(&l.scan_title),
        scan_hint: ss(&l.scan_hint),
    });
    // The code's picture is only rebuilt when the code changes (once a minute).
    match &v.phone_qr {
        Some(qr) if g.get_phone_qr_url() != qr.url.as_str() => {
            let side = qr.pixels.side as u32;
            let buffer =
                SharedPixelBuffer::<Rgb8Pixel>::clone_from_slice(&qr.pixels.rgb8(), side, side);
            g.set_phone_qr(Image::from_rgb8(buffer));
            g.set_phone_qr_url(ss(&qr.url));
        }
        _ => {}
    }
    g.set_has_phone_qr(v.phone_qr.is_some());
    g.set_hall_name(ss(&v.hall_name));
    g.set_clock(ss(&v.clock));
    // Only replaced when the tiles really changed (see the detail below).
    let tiles: Vec<ServiceTile> = v
        .services
        .iter()
        .map(|t| ServiceTile {
            id: ss(&t.id),
            letter: ss(&t.letter),
            name: ss(&t.name),
            load: ss(&t.load),
            long_wait: t.long_wait,
        })
        .collect();
    let current = g.get_services();
    let same = current.iter().eq(tiles.iter().cloned());
    if !same {
        g.set_services(model(tiles));
    }
    g.set_tickets_ended(v.tickets_ended);
    g.set_banner(ss(&v.banner));
    g.set_callback_offer(v.callback_offer);
    g.set_notice(ss(&v.notice));
    g.set_busy(v.busy);
    // The board arrives every few seconds: lists are only replaced when what they show changed,
    // so an unchanged screen costs no relayout and no repaint.
    let d = &v.detail;
    let shown = g.get_detail();
    let fees: Vec<FeeLine> = d
        .fees
        .iter()
        .map(|(item, amount)| FeeLine {
            item: ss(item),
            amount: ss(amount),
        })
        .collect();
    let same_detail = shown.id == d.id.as_str()
        && shown.name == d.name.as_str()
        && shown.load == d.load.as_str()
        && shown.reminder == d.reminder.as_str()
        && shown.documents.iter().eq(d.documents.iter().map(|x| ss(x)))
        && shown.steps.iter().eq(d.steps.iter().map(|x| ss(x)))
        && shown.fees.iter().eq(fees.iter().cloned());
    if !same_detail {
        g.set_detail(ServiceDetail {
            id: ss(&d.id),
            letter: ss(&d.letter),
            name: ss(&d.name),
            documents: strings(&d.documents),
            steps: strings(&d.steps),
            fees: model(fees),
            reminder: ss(&d.reminder),
            load: ss(&d.load),
        });
    }
    let i = &v.issued;
    g.set_issued(IssuedTicket {
        number: ss(&i.number),
        service: ss(&i.service),
        load: ss(&i.load),
        print_note: ss(&i.print_note),
        print_state: i.print_state,
    });
    g.set_apology(ss(&v.apology));
    g.set_purpose(ss(&v.purpose));
    g.set_phone_shown(ss(&v.phone_shown));
    g.set_phone_error(ss(&v.phone_error));
    g.set_consent(v.consent);
    g.set_done_text(ss(&v.done_text));
    let phrases: Vec<Phrase> = v
        .phrases
        .iter()
        .map(|(text, ticked)| Phrase {
            text: ss(text),
            ticked: *ticked,
        })
        .collect();
    let shown = g.get_phrases();
    if shown.row_count() == phrases.len() {
        // Same list: update only the rows that changed.
        for (row, p) in phrases.into_iter().enumerate() {
            if shown.row_data(row).as_ref() != Some(&p) {
                shown.set_row_data(row, p);
            }
        }
    } else {
        g.set_phrases(model(phrases));
    }
    // Set last: the screen switches only once everything it shows is in place.
    g.set_screen(ss(v.screen));
}

/// Routes the window's callbacks to `controller`. Each callback is quick: hub and printer work
/// happens on the controller's worker threads.
pub fn connect(ui: &KioskWindow, controller: &Controller) {
    let g = ui.global::<Station>();
    let c = controller.clone();
    g.on_choose_service(move |id| c.choose_service(&id));
    let c = controller.clone();
    g.on_take_ticket(move || c.take_ticket_here());
    let c = controller.clone();
    g.on_back(move || c.back());
    let c = controller.clone();
    g.on_toggle_lang(move || c.toggle_lang());
    let c = controller.clone();
    g.on_done(move || c.done());
    let c = controller.clone();
    g.on_open_callback(move || c.open_callback());
    let c = controller.clone();
    g.on_open_suggestion(move || c.open_suggestion());
    let c = controller.clone();
    g.on_key(move |k| c.key(&k));
    let c = controller.clone();
    g.on_toggle_consent(move || c.toggle_consent());
    let c = controller.clone();
    g.on_submit_callback(move || c.submit_callback());
    let c = controller.clone();
    g.on_toggle_phrase(move |i| c.toggle_phrase(usize::try_from(i).unwrap_or(usize::MAX)));
    let c = controller.clone();
    g.on_submit_suggestion(move || c.submit_suggestion());
    let c = controller.clone();
    g.on_open_phone_code(move || c.open_phone_code());
}

/// A sink that applies each screen on the UI thread of `ui`'s event loop.
pub fn event_loop_sink(ui: &KioskWindow) -> Sink {
    let weak = ui.as_weak();
    Box::new(move |view: StationView| {
        // Fails only once the event loop has ended: nothing left to show then.
        let _ = weak.upgrade_in_event_loop(move |ui| apply(&ui, &view));
    })
}
