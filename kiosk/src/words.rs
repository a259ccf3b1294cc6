//! Every fixed word the kiosk says to a customer, in Chinese first and in English. The hall's own texts
//! (service names, documents, fees, hotlines) come from the hub; these are the kiosk's frame around them.

use hallq_shared::hall::Lang;

/// One sentence in both languages.
#[derive(Clone, Copy, Debug)]
pub struct Said {
    pub zh: &'static str,
    pub en: &'static str,
}

impl Said {
    pub const fn new(zh: &'static str, en: &'static str) -> Said {
        Said { zh, en }
    }

    pub fn get(self, lang: Lang) -> &'static str {
        match lang {
            Lang::Zh => self.zh,
            Lang::En => self.en,
        }
    }
}

const fn s(zh: &'static str, en: &'static str) -> Said {
    Said::new(zh, en)
}

/// The switch shows the language it switches *to*, in that language, so anyone can find their own.
pub const LANG_SWITCH: Said = s("English", "中文");
pub const BACK: Said = s("返回", "Back");
pub const TAKE_TICKET: Said = s("取号", "Take a ticket");
pub const DOCUMENTS: Said = s("请带好证件", "Please bring");
pub const STEPS: Said = s("办理流程", "Procedure");
pub const FEES: Said = s("收费标准", "Fees");
pub const NO_DOCUMENTS: Said = s("无需证件", "Nothing needed");
pub const NO_FEES: Said = s("免费", "Free of charge");
pub const YOUR_NUMBER: Said = s("您的号码是", "Your number is");
pub const DONE: Said = s("好的，完成", "OK, done");
pub const CHOOSE_SERVICE: Said = s(
    "您好！请点击您要办理的业务",
    "Welcome! Please touch the service you need",
);
pub const SUGGESTION: Said = s("意见建议", "Suggestions");
pub const SCAN_BUTTON: Said = s("扫码取号", "Ticket by phone");
pub const SCAN_TITLE: Said = s("用手机扫码取号", "Take a number with your phone");
pub const SCAN_HINT: Said = s(
    "用微信或手机相机扫描左边的二维码，选择业务即可取号。\n排到几号、还要等多久，手机上随时看；快到您时手机会提醒。\n二维码每分钟更换，请在大厅内扫描。",
    "Scan the code on the left with WeChat or your phone's camera and choose a service.\nYour phone shows your place in the line and tells you when your turn is near.\nThe code changes every minute: scan it here in the hall.",
);
pub const CALLBACK: Said = s("留下电话，我们回电", "Leave a phone number for a callback");
pub const ENDED_TITLE: Said = s("今天的取号已结束", "Today's tickets have ended");
pub const PHONE_LABEL: Said = s("请输入您的电话号码", "Please enter your phone number");
pub const SUBMIT: Said = s("提交", "Submit");
pub const CLEAR: Said = s("清空", "Clear");
pub const DELETE: Said = s("删除", "Delete");
pub const SUGGESTION_TITLE: Said = s("意见建议", "Your suggestions");
pub const SUGGESTION_HINT: Said = s(
    "请点选您想说的（可选多条），谢谢您的宝贵意见",
    "Touch what you want to tell us (one or more). Thank you",
);
/// The phone asked for with a suggestion: what it is for and when it is deleted, as for a callback.
pub fn suggestion_phone(lang: Lang, retention_days: u32) -> String {
    match lang {
        Lang::Zh => {
            format!("需要答复请留电话（选填）\n仅用于答复您，办结后 {retention_days} 天删除")
        }
        Lang::En => format!(
            "Phone for our answer (optional)\nUsed only to answer you; deleted {retention_days} days after it is handled"
        ),
    }
}
pub const THANKS_SUGGESTION: Said = s(
    "谢谢您的意见！我们会认真改进。",
    "Thank you! We will act on your suggestion.",
);
pub const PICK_A_PHRASE: Said = s("请至少点选一条意见", "Please touch at least one suggestion");
pub const CONSENT_NEEDED: Said = s(
    "请先勾选同意我们回电",
    "Please tick the box to agree to our call",
);

/// Printer notes under the number on the issued screen.
pub const PRINTING: Said = s("正在打印号票，请稍候…", "Printing your ticket…");
pub const PRINTED: Said = s(
    "请取走号票，在休息区等候叫号",
    "Please take your ticket and wait to be called",
);
pub const PRINTER_PROBLEM_TAIL: Said = s(
    "号票未能打印，请记住您的号码，叫号时以屏幕和语音为准。工作人员已收到提醒。",
    "No paper ticket this time: please remember your number; calls are shown on the board and spoken. Staff have been told.",
);
pub const NO_PRINTER: Said = s(
    "本机不打印号票，请记住您的号码，叫号时以屏幕和语音为准。",
    "This kiosk prints no ticket: please remember your number; calls are shown on the board and spoken.",
);

/// Lines the hub cannot say because it cannot be reached.
pub const HUB_DOWN: Said = s(
    "取号系统正在连接，请稍候片刻或询问工作人员，给您带来不便，敬请谅解。",
    "The ticket system is reconnecting. Please wait a moment or ask a member of staff. We apologise.",
);
pub const RATE_LIMITED: Said = s(
    "取号太频繁，请稍候再试。",
    "Too many tickets at once, please try again in a moment.",
);
pub const FAILED: Said = s(
    "抱歉，操作未成功，请再试一次或询问工作人员。",
    "Sorry, that did not work. Please try again or ask a member of staff.",
);

/// Suggestion phrases an elderly customer can pick without typing: praise, the usual complaints,
/// and a request to be contacted. The hall can read them at a glance in the suggestion list.
pub const PHRASES: [Said; 7] = [
    s("服务态度很好，表扬", "Friendly service, well done"),
    s("等候时间太长", "The wait was too long"),
    s("希望增加服务窗口", "Please open more counters"),
    s("办理手续太复杂", "The procedure is too complicated"),
    s("收费说明不清楚", "The fees were not explained clearly"),
    s("希望延长营业时间", "Please open longer hours"),
    s("厅内环境需要改善", "The hall needs tidying / more seats"),
];

/// `wait` is the wait as told ([`crate::view::wait_words`]): "约15–20分钟", "about 15–20 min";
/// `None` when there is none. Nobody waiting is not always no wait: every counter may be busy, or
/// the business system down.
pub fn load(lang: Lang, waiting: u32, wait: Option<&str>) -> String {
    match (lang, waiting, wait) {
        (Lang::Zh, 0, None) => "无人等候，马上办理".into(),
        (Lang::En, 0, None) => "Nobody waiting".into(),
        (Lang::Zh, 0, Some(w)) => format!("无人等候 · {w}"),
        (Lang::En, 0, Some(w)) => format!("Nobody waiting · {w}"),
        (Lang::Zh, n, w) => format!("等候 {n} 人 · {}", w.unwrap_or("无需等候")),
        (Lang::En, n, w) => format!("{n} waiting · {}", w.unwrap_or("no wait")),
    }
}

pub fn ahead(lang: Lang, ahead: u32, wait: Option<&str>) -> String {
    match (lang, ahead, wait) {
        (Lang::Zh, 0, None) => "您前面没有人，请留意叫号".into(),
        (Lang::En, 0, None) => "Nobody ahead of you: listen for your number".into(),
        (Lang::Zh, 0, Some(w)) => format!("您前面没有人，预计等候{w}，请留意叫号"),
        (Lang::En, 0, Some(w)) => format!("Nobody ahead of you, wait {w}: listen for your number"),
        (Lang::Zh, n, w) => format!("您前面还有 {n} 人，预计等候{}", w.unwrap_or("无需等候")),
        (Lang::En, n, w) => format!("{n} ahead of you, wait {}", w.unwrap_or("no wait")),
    }
}

pub fn ended_body(lang: Lang, opening: &str) -> String {
    match lang {
        Lang::Zh => format!(
            "非常抱歉，今天已停止取号。已取号的客户我们会全部办理完毕。\n欢迎您明天 {opening} 以后再来。"
        ),
        Lang::En => format!(
            "We are sorry: no more tickets today. Everyone holding a ticket will still be served.\nYou are welcome tomorrow from {opening}."
        ),
    }
}

pub fn hotlines(lang: Lang, consultation: &str, complaint: &str) -> String {
    match lang {
        Lang::Zh => format!("咨询电话 {consultation}    投诉电话 {complaint}"),
        Lang::En => format!("Enquiries {consultation}    Complaints {complaint}"),
    }
}

pub fn consent(lang: Lang) -> &'static str {
    match lang {
        Lang::Zh => "我同意营业厅用这个号码给我回电",
        Lang::En => "I agree that the hall calls me back on this number",
    }
}

/// Why the number is asked for and how long it is kept: said before anything is typed.
pub fn purpose(lang: Lang, retention_days: u32, hotline: &str) -> String {
    match lang {
        Lang::Zh => format!(
            "请留下您的电话，系统恢复或轮到您办理时，我们会第一时间打电话通知您，您不必在厅内久等。\n号码只用于这次回电，处理完毕 {retention_days} 天后删除。\n也可拨打 {hotline} 咨询。"
        ),
        Lang::En => format!(
            "Leave your phone number and we will call you as soon as we can serve you, so you need not wait here.\nIt is used only for this call and deleted {retention_days} days after your case is closed.\nEnquiries: {hotline}."
        ),
    }
}

pub fn callback_done(lang: Lang, masked: &str) -> String {
    match lang {
        Lang::Zh => format!("已记下您的电话 {masked}\n我们会尽快给您回电，谢谢您的耐心！"),
        Lang::En => format!(
            "We have your number {masked}.\nWe will call you back as soon as we can. Thank you for your patience!"
        ),
    }
}

pub fn outage_apology(lang: Lang, long: bool, expected_end: Option<&str>) -> String {
    match (lang, long, expected_end) {
        (Lang::Zh, false, Some(t)) => format!(
            "非常抱歉，业务系统暂时故障，预计 {t} 恢复，请您稍候，让您久等了。"
        ),
        (Lang::Zh, _, _) => {
            "非常抱歉，业务系统故障，一时难以恢复。您可以留下电话，恢复后我们马上回电。".into()
        }
        (Lang::En, false, Some(t)) => format!(
            "We are sorry: the business system is down, expected back at {t}. Please bear with us."
        ),
        (Lang::En, _, _) => "We are sorry: the business system is down and will take a while. Leave your phone number and we will call you back.".into(),
    }
}

/// Staff say the business system is slow; `long_wait` when some line is also long (the callback
/// offer goes with it).
pub fn slow_system_apology(lang: Lang, long_wait: bool) -> String {
    match (lang, long_wait) {
        (Lang::Zh, false) => {
            "非常抱歉，业务系统响应较慢，每位客户的办理时间比平时长，预计等候已按此计算。".into()
        }
        (Lang::Zh, true) => "非常抱歉，业务系统响应较慢，等候时间较长，让您久等了。不想久等可以留下电话，我们回电通知您。".into(),
        (Lang::En, false) => "We are sorry: our business system is slow, so each visit takes longer than usual. The waits shown allow for it.".into(),
        (Lang::En, true) => "We are sorry: our business system is slow and the wait is long. If you prefer, leave your phone number and we will call you.".into(),
    }
}

pub fn long_wait_apology(lang: Lang) -> &'static str {
    match lang {
        Lang::Zh => {
            "非常抱歉，今天办理的人较多，让您久等了。不想久等可以留下电话，我们回电通知您。"
        }
        Lang::En => {
            "We are sorry for the long wait today. If you prefer, leave your phone number and we will call you."
        }
    }
}

pub fn before_opening(lang: Lang, opening: &str) -> String {
    match lang {
        Lang::Zh => format!("营业时间 {opening} 开始，您现在就可以取号，开门后按号码顺序办理。"),
        Lang::En => {
            format!("We open at {opening}. You can take a ticket now; numbers are served in order.")
        }
    }
}

pub fn service_stopped(lang: Lang) -> &'static str {
    match lang {
        Lang::Zh => "抱歉，此项业务暂停取号，请询问工作人员。",
        Lang::En => "Sorry, this service is not issuing tickets now. Please ask a member of staff.",
    }
}
