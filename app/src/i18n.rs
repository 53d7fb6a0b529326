//! Every string the app shows, in one catalogue: Simplified Chinese first, English in settings.
//!
//! A string is a [`T`] key; [`tr`] gives its text in a [`Lang`]. The match is exhaustive, so a
//! key without both languages does not compile. Names of domain values (patrol kinds,
//! severities, roles, periods, grades) come from [`zonepatrol_shared::labels`], re-exported
//! here under the app's names, so that the app and the dashboard say the same thing and no
//! screen spells them itself.

use zonepatrol_shared::validate::{Refusal, RefusalCode};

pub use zonepatrol_shared::labels::Lang;
pub use zonepatrol_shared::labels::{
    assessment_item_label as assessment_item, category_label as category, grade_label as grade,
    kind_label as doc_kind, patrol_kind_label as patrol_kind, period_label as period,
    problem_status_label as problem_status, role_label as role, severity_label as severity,
};

use crate::photo::PhotoError;
use crate::sync::SyncError;

/// How the app stores a language and names it in the page.
pub trait LangCode: Sized {
    /// The `lang` attribute of the page.
    fn code(self) -> &'static str;

    /// From a stored setting; anything unknown is Chinese.
    fn from_code(code: &str) -> Self;
}

impl LangCode for Lang {
    fn code(self) -> &'static str {
        self.pick("zh-CN", "en")
    }

    fn from_code(code: &str) -> Lang {
        if code.starts_with("en") {
            Lang::En
        } else {
            Lang::Zh
        }
    }
}

/// A string of the interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum T {
    AppTitle,
    // Signing in.
    SignInTitle,
    MineAuthority,
    AuthorityHint,
    AuthorityTrusted,
    TrustAuthority,
    StopTrusting,
    Server,
    UserName,
    Password,
    SignIn,
    SigningIn,
    SignOut,
    SwitchUser,
    SwitchUserHint,
    KnownUsers,
    SignedInOffline,
    NeedServer,
    NeedUserName,
    NeedPassword,
    // Sync status.
    Offline,
    Syncing,
    SyncedAt,
    NeverSynced,
    SyncFailed,
    Refused,
    SyncNow,
    Docs,
    Photos,
    Bytes,
    // Home.
    Home,
    StartPatrol,
    MyProblems,
    LogCleanup,
    MonthlyAssessment,
    SelfScore,
    Rankings,
    Settings,
    Language,
    // A walk.
    ChoosePatrolKind,
    Zones,
    ScanPlacard,
    Score,
    RunningTotal,
    NotApplicable,
    AddPhoto,
    Note,
    RaiseProblem,
    NextZone,
    ClosePatrol,
    Saved,
    // Problems.
    Severity,
    Responsible,
    Measure,
    Deadline,
    Description,
    Overdue,
    DueOn,
    Rectify,
    NoProblems,
    // Errors.
    NotSaved,
    // More screens.
    Back,
    Day,
    Inspectors,
    Start,
    MyPatrols,
    InProgress,
    Closed,
    NotScored,
    ZoneCount,
    ChooseDay,
    ChooseZones,
    NoDirectory,
    NotOnPhone,
    DescribeProblem,
    ChooseResponsible,
    ChooseDeadline,
    DeadlinePast,
    OnlyLeaderCloses,
    OnlyManagersLeadCommittee,
    VisitorNoProblems,
    OnlyResponsibleFixes,
    NeedAfterPhoto,
    ToVerify,
    NothingToVerify,
    NotYourOwnFix,
    OnlyInspectorsVerify,
    NeedReopenNote,
    NoFixesToVerify,
    VerifyFix,
    ReopenFix,
    ReopenNote,
    NewDeadline,
    FixVerified,
    FixReopened,
    BeforePhotos,
    AfterPhotos,
    FixedBy,
    StillWrong,
    PhotoNotHere,
    AskMoreTime,
    MoreTimeUntil,
    MoreTimeReason,
    SubmitMoreTime,
    MoreTimeAsked,
    MoreTimePending,
    MoreTimeGranted,
    MoreTimeRefused,
    MoreTimeRequests,
    GrantMoreTime,
    GrantUntil,
    RefuseMoreTime,
    RefuseReason,
    NeedMoreTimeReason,
    NeedRefuseReason,
    MoreTimeAlreadyAsked,
    DeadlinePassedNoMoreTime,
    LaterThanDeadline,
    NotWaitingForFix,
    OnlySecretaryAnswers,
    NothingToAnswer,
    MoreTimeGrantedDone,
    MoreTimeRefusedDone,
    AskedBy,
    CurrentDeadline,
    NotYourOwnRequest,
    Due,
    TooManyApplications,
    RejectReason,
    ReviewNote,
    RevokeReason,
    RevokeFinal,
    RevokeConfirm,
    Posts,
    ApplyPost,
    PostTitle,
    PostZone,
    PostDemonstrators,
    PostStandard,
    PostDuty,
    PostAssessor,
    PostAssessment,
    PostStarts,
    PostEnds,
    SubmitApplication,
    PostApplied,
    NoPosts,
    ApprovePost,
    RejectPost,
    ReviewPost,
    RevokePost,
    PostApproved,
    PostRejected,
    PostReviewed,
    PostRevoked,
    PostHistory,
    PostTerm,
    OnlyMembersApply,
    NeedPostTitle,
    FillFiveClears,
    PostTermDates,
    PostTermOver,
    NotYourOwnPost,
    PostNotWaiting,
    OnlySecretaryDecidesPosts,
    PostNotInForce,
    NeedPostReason,
    NeedReviewNote,
    PostToDecide,
    Submit,
    ProcessingPhoto,
    NoCodeFound,
    CodeNotOnPatrol,
    Quarantine,
    Relay,
    RelayHint,
    RelayListen,
    RelayShowCode,
    RelayAddress,
    RelayConnect,
    RelayConnecting,
    RelayBadAddress,
    RelayCarrying,
    RelayHanded,
    RelayMeetings,
    RelayNothing,
    RelaySealed,
    RelayFrom,
    RelayDelivered,
    RelayToServer,
    RelayHandedTo,
    RelayGave,
    RelayTook,
    /// Of what was taken, how much shows here already.
    RelayShown,
    RelayNotTaken,
    RelayAccepted,
    RelayPending,
    RelayRefused,
    RelayDone,
    Dismiss,
    NothingRefused,
    /// The label of the server's own words on a refused edit.
    ServerSays,
    FixNote,
    AfterPhoto,
    Rectified,
    SignedInAs,
    Chinese,
    English,
    ItemNote,
    ProblemRaised,
    PatrolClosed,
    PhotoNeeded,
    PhotoFirst,
    PhotoCount,
    ScoreEveryItem,
    OnlyHolderSelfScores,
    OnlySecretaryAssesses,
    ChooseZone,
    PersonTimesRange,
    WorkItemIncomplete,
    OnlyTeamLeaderLogs,
    ThisMonth,
    LastMonth,
    SelfScoreShort,
    BranchScore,
    Suggested,
    Total,
    Team,
    Participants,
    PersonTimes,
    WorkItems,
    What,
    Quantity,
    Unit,
    AddWorkItem,
    BeforePhoto,
    AfterCleanupPhoto,
    CleanupLogged,
    Rank,
    Money,
    OpenProblems,
    NoReports,
    UpdatedAt,
    Praised,
    Named,
    BranchResult,
    Final,
    NotFilled,
    Remarks,
    Scored,
    NoZones,
    PeriodPublished,
    OnlyInspectorsScore,
    OnlyInspectorsRaise,
    OtherBranchPlacard,
    FixSignInOnline,
    History,
    DateFormat,
    DayEarlier,
    DayLater,
    DaysShort,
    Today,
    Earliest,
    Latest,
    DeductionNeedsPhoto,
    RecordCreated,
    TheServer,
    ThisPhone,
    AnotherPhone,
    OlderChanges,
    FixSignIn,
    FixFreeSpace,
    FixUpdate,
    ChooseCleanupDay,
    PhotoAdded,
    PlaceInCategory,
    BranchProblems,
    MyMoney,
    ZoneTrend,
    TapZoneForTrend,
    ChangeFromBefore,
    InspectionShort,
    NoMonths,
    MonthColumn,
    Drafts,
    DiscardDraft,
    ConfirmDiscard,
    KeepDraft,
    DraftRestored,
    DraftPhotos,
    OpenPhoto,
    RemovePhoto,
    Close,
    Removed,
    Reapply,
    ReapplyHint,
    Reapplied,
    Annotate,
    MarkCircle,
    MarkArrow,
    MarkLabel,
    Undo,
    Done,
    Cancel,
    LabelWords,
    LabelFirst,
    AnnotateHint,
    ClearMarks,
}

/// The colon between a label and what follows, as each language writes it.
pub fn colon(lang: Lang) -> &'static str {
    match lang {
        Lang::Zh => "：",
        Lang::En => ": ",
    }
}

/// The text of a key in a language.
pub fn tr(lang: Lang, key: T) -> &'static str {
    let (zh, en) = match key {
        T::AppTitle => ("党员责任区巡查", "Zone Patrol"),
        T::SignInTitle => ("登录", "Sign in"),
        T::MineAuthority => ("矿井内部证书", "The mine's own certificate"),
        T::AuthorityHint => (
            "服务器使用矿井自己的证书（https）时，把信息中心给的证书文本（PEM）粘贴在这里",
            "If the server uses the mine's own certificate (https), paste the certificate text (PEM) the mine's IT gave here",
        ),
        T::AuthorityTrusted => ("已信任，指纹", "Trusted; fingerprint"),
        T::TrustAuthority => ("信任此证书", "Trust this certificate"),
        T::StopTrusting => ("不再信任", "Stop trusting it"),
        T::Server => ("服务器地址", "Server address"),
        T::UserName => ("用户名", "User name"),
        T::Password => ("密码", "Password"),
        T::SignIn => ("登录", "Sign in"),
        T::SigningIn => ("正在登录…", "Signing in…"),
        T::SignOut => ("退出登录", "Sign out"),
        T::SwitchUser => ("换人使用（不退出）", "Hand over (stay signed in)"),
        T::SwitchUserHint => (
            "换人后，你没发送的内容、草稿和被退回的修改都留在手机上，联网时以你的名义发送；下次可离线用密码登录。",
            "Your unsent work, drafts and refused edits stay on the phone and are sent under your name when the server is reachable; next time you can sign in offline with your password.",
        ),
        T::KnownUsers => (
            "在这部手机上登录过的人",
            "People who signed in on this phone",
        ),
        T::SignedInOffline => (
            "已离线登录：连不上服务器，修改先存在手机上",
            "Signed in offline: the server is out of reach; your work is kept on the phone",
        ),
        T::NeedServer => (
            "请填写服务器地址，例如 http://10.0.0.5:8080",
            "Enter the server address, such as http://10.0.0.5:8080",
        ),
        T::NeedUserName => ("请填写用户名", "Enter your user name"),
        T::NeedPassword => ("请填写密码", "Enter your password"),
        T::Offline => (
            "离线：修改已保存在手机上，联网后自动同步",
            "Offline: edits are saved on this phone and sync when there is a connection",
        ),
        T::Syncing => ("正在同步", "Syncing"),
        T::SyncedAt => ("已同步", "Synced"),
        T::NeverSynced => ("尚未同步", "Not synced yet"),
        T::SyncFailed => ("同步失败", "Sync failed"),
        T::Refused => ("条修改被服务器退回", "edits refused by the server"),
        T::SyncNow => ("立即同步", "Sync now"),
        T::Docs => ("份记录", "records"),
        T::Photos => ("张照片", "photos"),
        T::Bytes => ("字节", "bytes"),
        T::Home => ("首页", "Home"),
        T::StartPatrol => ("开始巡查", "Start a patrol"),
        T::MyProblems => ("我的整改", "My problems"),
        T::LogCleanup => ("登记清理", "Log a cleanup"),
        T::MonthlyAssessment => ("月度考核", "Monthly assessment"),
        T::SelfScore => ("月度自评", "Monthly self-score"),
        T::Rankings => ("排名与积分", "Rankings and points"),
        T::Settings => ("设置", "Settings"),
        T::Language => ("语言", "Language"),
        T::ChoosePatrolKind => ("选择巡查类型", "Choose the kind of patrol"),
        T::Zones => ("责任区", "Zones"),
        T::ScanPlacard => ("扫描责任区牌", "Scan the zone placard"),
        T::Score => ("评分", "Score"),
        T::RunningTotal => ("当前得分", "Score so far"),
        T::NotApplicable => ("不涉及", "N/A"),
        T::AddPhoto => ("拍照", "Photo"),
        T::Note => ("备注", "Note"),
        T::RaiseProblem => ("提出问题", "Raise a problem"),
        T::NextZone => ("下一个责任区", "Next zone"),
        T::ClosePatrol => ("结束巡查", "Close the patrol"),
        T::Saved => ("已保存", "Saved"),
        T::Severity => ("严重程度", "Severity"),
        T::Responsible => ("责任人", "Responsible"),
        T::Measure => ("整改措施", "Measure"),
        T::Deadline => ("整改期限", "Deadline"),
        T::Description => ("问题描述", "Description"),
        T::Overdue => ("已超期", "Overdue"),
        T::DueOn => ("期限", "Due"),
        T::Rectify => ("登记整改", "Record the fix"),
        T::NoProblems => ("没有待整改的问题", "No problems to fix"),
        T::NotSaved => ("未能保存", "Not saved"),
        T::Back => ("返回", "Back"),
        T::Day => ("日期", "Day"),
        T::Inspectors => ("检查人员", "Inspectors"),
        T::Start => ("开始", "Start"),
        T::MyPatrols => ("我的巡查", "My patrols"),
        T::InProgress => ("进行中", "In progress"),
        T::Closed => ("已结束", "Closed"),
        T::NotScored => ("未评分", "Not scored"),
        T::ZoneCount => ("个责任区", "zones"),
        T::ChooseDay => ("请选择巡查日期", "Choose the day of the walk"),
        T::ChooseZones => ("请至少选择一个责任区", "Choose at least one zone"),
        T::NoDirectory => (
            "本支部的责任区还没有同步到手机：请联网同步一次",
            "The branch's zones are not on this phone yet: connect once to sync",
        ),
        T::NotOnPhone => (
            "手机上没有这条记录：请同步后再试",
            "That record is not on this phone: sync and try again",
        ),
        T::DescribeProblem => ("请描述问题", "Describe the problem"),
        T::ChooseResponsible => ("请选择责任人", "Choose who must fix it"),
        T::ChooseDeadline => ("请选择整改期限", "Choose the deadline for the fix"),
        T::DeadlinePast => ("整改期限不能早于今天", "The deadline cannot be in the past"),
        T::OnlyLeaderCloses => (
            "只有巡查组长可以结束巡查",
            "Only the patrol's leader closes it",
        ),
        T::OnlyManagersLeadCommittee => (
            "只有党委（管理人员）可以组织跨支部巡查：请只选本支部的责任区",
            "Only a manager leads a patrol across branches: choose your own branch's zones",
        ),
        T::VisitorNoProblems => (
            "您以其他支部检查人员身份评分：问题由该支部书记或检查人员提出，请在评分项备注中写明",
            "You score as an inspector from another branch: that branch's secretary or inspectors raise problems; write it in the item's note",
        ),
        T::OnlyResponsibleFixes => (
            "只有责任人可以登记整改",
            "Only the responsible member records the fix",
        ),
        T::NeedAfterPhoto => ("请拍一张整改后的照片", "Add a photo of the fixed place"),
        T::ToVerify => ("待验证整改", "Fixes to verify"),
        T::NothingToVerify => (
            "这个问题现在没有待验证的整改：请同步后再看",
            "This problem has no fix waiting to be verified now: sync and look again",
        ),
        T::NotYourOwnFix => (
            "不能验证自己整改的问题：请另一位巡查员验证",
            "Nobody verifies their own fix: ask another inspector",
        ),
        T::OnlyInspectorsVerify => (
            "只有支部书记或巡查员可以验证整改",
            "Only a secretary or an inspector verifies a fix",
        ),
        T::NeedReopenNote => (
            "请写明还有什么问题，责任人才知道怎么整改",
            "Say what is still wrong, so that the holder knows what to fix",
        ),
        T::NoFixesToVerify => ("没有待验证的整改", "No fixes to verify"),
        T::VerifyFix => ("验证通过（销号）", "Fix holds: close it"),
        T::ReopenFix => ("退回重新整改", "Send back to fix again"),
        T::ReopenNote => ("还有什么问题", "What is still wrong"),
        T::NewDeadline => (
            "新的整改期限（不填则期限不变）",
            "New deadline (leave empty to keep the current one)",
        ),
        T::FixVerified => ("已销号", "Closed: the fix holds"),
        T::FixReopened => ("已退回责任人重新整改", "Sent back to the holder"),
        T::BeforePhotos => ("整改前", "Before"),
        T::AfterPhotos => ("整改后", "After"),
        T::FixedBy => ("整改人", "Fixed by"),
        T::StillWrong => ("验证未通过", "Not accepted"),
        T::PhotoNotHere => (
            "照片还没到这部手机：同步后再看",
            "Photo not on this phone yet: sync and look again",
        ),
        T::AskMoreTime => ("申请延期", "Ask for more time"),
        T::MoreTimeUntil => ("申请延期至", "New deadline asked for"),
        T::MoreTimeReason => ("延期原因", "Why more time is needed"),
        T::SubmitMoreTime => ("提交延期申请", "Send the request"),
        T::MoreTimeAsked => (
            "延期申请已提交，等待书记批复",
            "Request sent: waiting for the secretary's answer",
        ),
        T::MoreTimePending => (
            "延期申请待批复",
            "Request for more time waiting for an answer",
        ),
        T::MoreTimeGranted => ("已同意延期至", "More time granted until"),
        T::MoreTimeRefused => ("延期未批准", "More time refused"),
        T::MoreTimeRequests => ("延期申请", "Requests for more time"),
        T::GrantMoreTime => ("同意延期", "Grant more time"),
        T::GrantUntil => ("新的整改期限", "New deadline"),
        T::RefuseMoreTime => ("不同意延期", "Refuse"),
        T::RefuseReason => ("不同意的原因", "Why the request is refused"),
        T::NeedMoreTimeReason => ("请写明延期原因", "Write why more time is needed"),
        T::NeedRefuseReason => ("请写明不同意的原因", "Write why the request is refused"),
        T::MoreTimeAlreadyAsked => (
            "已有一个延期申请在等待批复",
            "A request is already waiting for the secretary's answer",
        ),
        T::DeadlinePassedNoMoreTime => (
            "整改期限已过，不能再申请延期：请尽快整改，或与书记联系",
            "The deadline has passed, so more time can no longer be asked for: fix it now or talk to the secretary",
        ),
        T::LaterThanDeadline => (
            "新期限须晚于现行整改期限",
            "The new deadline must be after the one in force",
        ),
        T::NotWaitingForFix => (
            "这个问题已整改或已销号，不需要延期",
            "This problem is fixed or closed: no more time is needed",
        ),
        T::OnlySecretaryAnswers => (
            "只有支部书记批复延期申请",
            "Only the branch secretary answers requests for more time",
        ),
        T::NothingToAnswer => (
            "这个延期申请已经批复或已不需要：请同步后再看",
            "This request is answered or no longer needed: sync and look again",
        ),
        T::MoreTimeGrantedDone => ("已同意延期", "More time granted"),
        T::MoreTimeRefusedDone => ("已驳回延期申请", "Request refused"),
        T::AskedBy => ("申请人", "Asked by"),
        T::CurrentDeadline => ("现行期限", "Deadline in force"),
        T::NotYourOwnRequest => (
            "不能批复自己的延期申请：由党委决定",
            "Nobody answers their own request for more time: the party committee decides it",
        ),
        T::Posts => ("示范岗", "Demonstration posts"),
        T::ApplyPost => ("申报示范岗", "Apply for a post"),
        T::PostTitle => ("示范岗名称", "Title"),
        T::PostZone => ("明确区域（责任区）", "Clear area (zone)"),
        T::PostDemonstrators => (
            "明确示范者（本人已包括）",
            "Clear demonstrators (you are one)",
        ),
        T::PostStandard => ("明确依据和标准", "Clear basis and standard"),
        T::PostDuty => ("亮职责（公示牌上的职责）", "Duty (as the placard shows it)"),
        T::PostAssessor => ("明确考核人", "Clear assessor"),
        T::PostAssessment => ("明确考核标准", "Clear assessment standard"),
        T::PostStarts => ("开始日期", "Start date"),
        T::PostEnds => ("结束日期", "End date"),
        T::SubmitApplication => ("提交申报", "Submit the application"),
        T::PostApplied => (
            "已申报，等待支部书记审批",
            "Applied: waiting for the secretary",
        ),
        T::NoPosts => ("本支部还没有示范岗", "The branch has no posts yet"),
        T::ApprovePost => ("批准", "Approve"),
        T::RejectPost => ("不批准", "Turn down"),
        T::ReviewPost => ("记录季度讲评", "Record the quarterly review"),
        T::RevokePost => ("摘牌", "Withdraw the title"),
        T::PostApproved => ("已批准", "Approved"),
        T::PostRejected => ("已记录不批准", "Turned down"),
        T::PostReviewed => ("已记录讲评", "Review recorded"),
        T::PostRevoked => ("已摘牌", "Title withdrawn"),
        T::PostHistory => ("经过", "History"),
        T::PostTerm => ("起止日期", "Term"),
        T::OnlyMembersApply => (
            "只有本支部党员能申报示范岗：请同步后再试",
            "Only a member of the branch applies for a post: sync and try again",
        ),
        T::NeedPostTitle => ("请填写示范岗名称", "Fill in the post's title"),
        T::FillFiveClears => (
            "请填写五明确：依据和标准、考核人、考核标准",
            "Fill in the five clears: basis and standard, assessor, assessment standard",
        ),
        T::PostTermDates => (
            "请选择开始和结束日期，结束不早于开始",
            "Choose the start and end dates, the end on or after the start",
        ),
        T::PostTermOver => (
            "结束日期已过：请选择今后的日期",
            "The end date has passed: choose a later one",
        ),
        T::NotYourOwnPost => (
            "不能审批自己的示范岗：由其他书记或管理员审批",
            "Nobody approves or turns down their own post: another secretary or an admin decides",
        ),
        T::PostNotWaiting => (
            "这个示范岗已经审批过：请同步后再看",
            "This post is decided already: sync and look again",
        ),
        T::OnlySecretaryDecidesPosts => (
            "只有支部书记能审批示范岗",
            "Only the branch secretary decides on posts",
        ),
        T::PostNotInForce => (
            "这个示范岗不在岗：不能讲评或摘牌",
            "This post is not in force: it cannot be reviewed or withdrawn",
        ),
        T::NeedPostReason => ("请写明原因", "Write the reason"),
        T::NeedReviewNote => ("请写讲评意见", "Write the review note"),
        T::PostToDecide => ("待审批", "To decide"),
        T::RejectReason => ("不批准的原因", "Why it is turned down"),
        T::ReviewNote => ("季度讲评意见", "Quarterly review note"),
        T::RevokeReason => ("摘牌原因", "Why the title is withdrawn"),
        T::RevokeFinal => (
            "摘牌后不能撤回：确认吗？",
            "A withdrawn title cannot be given back: are you sure?",
        ),
        T::RevokeConfirm => ("确认摘牌", "Withdraw the title"),
        T::TooManyApplications => (
            "您已有5个申报在等待审批：请等支部书记审批后再申报",
            "Five of your applications wait for the secretary: apply again after they are decided",
        ),
        T::Due => ("待办", "Due"),
        T::Submit => ("提交", "Submit"),
        T::ProcessingPhoto => ("正在处理照片…", "Processing the photo…"),
        T::NoCodeFound => (
            "照片里没有找到二维码：请靠近、对准二维码再拍一张",
            "No QR code in the photo: come closer, aim at the code and take another",
        ),
        T::CodeNotOnPatrol => (
            "这个责任区不在本次巡查中",
            "That zone is not on this patrol",
        ),
        T::Quarantine => ("被退回的修改", "Refused edits"),
        T::Relay => ("与其他手机交换", "Exchange with other phones"),
        T::RelayHint => (
            "井下没有网络时，两部手机连到同一个热点或局域网，互相带上对方的工作；谁先到井上，谁就交给服务器。只和本队的手机交换；对方看不了的记录是密封的，只有服务器能打开。",
            "Underground with no network, two phones on the same hotspot or local Wi-Fi take each other's work; whichever reaches the surface first hands it to the server. Only the branch's phones take part; records the other may not read go sealed, and only the server opens them.",
        ),
        T::RelayListen => (
            "等待对方连接（显示二维码）",
            "Wait for the other phone (show a QR code)",
        ),
        T::RelayShowCode => (
            "请对方在“连接”处输入下面的地址和八位配对码（二维码里也是）。只有知道配对码的手机才能连接：",
            "Have the other phone enter this address and eight-digit code under Connect (the QR code holds them too). Only a phone that knows the code can connect:",
        ),
        T::RelayAddress => (
            "对方手机的地址和配对码",
            "The other phone's address and code",
        ),
        T::RelayConnect => ("连接并交换", "Connect and exchange"),
        T::RelayConnecting => ("正在交换…", "Exchanging…"),
        T::RelayBadAddress => (
            "地址或配对码不对：请输入对方手机显示的地址和八位配对码，例如 192.168.43.1:47800 1234 5678",
            "Not an invitation: enter the address and the eight-digit code the other phone shows, e.g. 192.168.43.1:47800 1234 5678",
        ),
        T::RelayCarrying => ("代别人带的工作", "Work carried for others"),
        T::RelayHanded => ("托别人带出的工作", "Work handed to others"),
        T::RelayMeetings => ("交换记录", "Phones met"),
        T::RelayNothing => ("暂无", "None yet"),
        T::RelaySealed => (
            "已密封，只有服务器能打开",
            "sealed: only the server opens it",
        ),
        T::RelayFrom => ("收自", "From"),
        T::RelayDelivered => ("已交给服务器", "Handed to the server"),
        T::RelayToServer => (
            "等到有网络时交给服务器",
            "Goes to the server at the next sync",
        ),
        T::RelayHandedTo => ("交给", "Handed to"),
        T::RelayGave => ("给出", "gave"),
        T::RelayTook => ("收到", "took"),
        T::RelayShown => ("已显示在本机", "shown here"),
        T::RelayNotTaken => ("未收下", "Not taken"),
        T::RelayAccepted => ("服务器已收到", "The server has it"),
        T::RelayPending => ("服务器还没有收到", "Not at the server yet"),
        T::RelayRefused => ("服务器拒收", "Refused by the server"),
        T::RelayDone => ("已与以下人员交换：", "Exchanged with"),
        T::Dismiss => ("放弃此修改", "Discard this edit"),
        T::NothingRefused => ("没有被退回的修改", "No refused edits"),
        T::ServerSays => ("服务器说明", "The server says"),
        T::FixNote => ("整改情况", "What was done"),
        T::AfterPhoto => ("整改后照片", "After-photo"),
        T::Rectified => ("已登记整改", "Fix recorded"),
        T::SignedInAs => ("当前用户", "Signed in as"),
        T::Chinese => ("中文", "中文 (Chinese)"),
        T::English => ("English（英文）", "English"),
        T::ItemNote => ("本项备注", "Note on this item"),
        T::ProblemRaised => ("问题已提出", "Problem raised"),
        T::PatrolClosed => ("巡查已结束", "Patrol closed"),
        T::PhotoNeeded => ("需拍照", "photo needed"),
        T::PhotoFirst => (
            "这一项扣分要有照片：请先拍照，再扣分",
            "This deduction needs a photo: take the photo first, then deduct",
        ),
        T::PhotoCount => ("照片", "Photos"),
        T::ScoreEveryItem => (
            "请给每一项打分，每项从0分到该项分值",
            "Score every item, each from 0 to what it is worth",
        ),
        T::OnlyHolderSelfScores => (
            "只有本责任区的负责人可以自评",
            "Only the zone's holders give its self-score",
        ),
        T::OnlySecretaryAssesses => ("只有支部书记可以考核", "Only the branch secretary assesses"),
        T::ChooseZone => ("请选择责任区", "Choose the zone"),
        T::PersonTimesRange => (
            "人次应在1到100000之间",
            "Person-times must be from 1 to 100,000",
        ),
        T::WorkItemIncomplete => (
            "每项工作都要填写内容、数量和单位",
            "Each work item needs what, how much and the unit",
        ),
        T::OnlyTeamLeaderLogs => ("只有班组长可以登记清理", "Only team leaders log cleanups"),
        T::ThisMonth => ("本月", "This month"),
        T::LastMonth => ("上月", "Last month"),
        T::SelfScoreShort => ("自评", "Self"),
        T::BranchScore => ("支部评分", "Branch score"),
        T::Suggested => ("建议", "Suggested"),
        T::Total => ("合计", "Total"),
        T::Team => ("班组", "Team"),
        T::Participants => ("参加人员", "Participants"),
        T::PersonTimes => ("人次", "Person-times"),
        T::WorkItems => ("工作内容", "Work done"),
        T::What => ("内容", "What"),
        T::Quantity => ("数量", "Quantity"),
        T::Unit => ("单位", "Unit"),
        T::AddWorkItem => ("添加一项工作", "Add a work item"),
        T::BeforePhoto => ("清理前照片", "Photo before"),
        T::AfterCleanupPhoto => ("清理后照片", "Photo after"),
        T::CleanupLogged => ("清理已登记", "Cleanup logged"),
        T::Rank => ("名次", "Rank"),
        T::Money => ("金额（元）", "Money (yuan)"),
        T::OpenProblems => ("未整改问题", "Open problems"),
        T::NoReports => (
            "还没有排名：服务器汇总后会同步到手机",
            "No rankings yet: they reach the phone once the server has consolidated results",
        ),
        T::UpdatedAt => ("更新于", "Updated"),
        T::Praised => ("表扬", "Praised"),
        T::Named => ("批评", "Named"),
        T::BranchResult => ("支部得分", "Branch result"),
        T::Final => ("已发布", "Published"),
        T::NotFilled => ("未填", "Not filled in"),
        T::Remarks => ("说明", "Remarks"),
        T::Scored => ("已保存评分", "Scores saved"),
        T::NoZones => ("没有需要评分的责任区", "No zones to score"),
        T::PeriodPublished => (
            "这个时期的结果已发布，不能再修改：请党委管理人员重新开放",
            "The results of this period are published and can no longer change: ask a manager to reopen it",
        ),
        T::OnlyInspectorsScore => (
            "只有书记、检查人员和党委管理人员可以评分",
            "Only secretaries, inspectors and managers score zones",
        ),
        T::OnlyInspectorsRaise => (
            "只有书记和检查人员可以提出问题",
            "Only secretaries and inspectors raise problems",
        ),
        T::OtherBranchPlacard => (
            "这是其他支部的责任区牌",
            "That placard belongs to another branch",
        ),
        T::History => ("修改历史", "History"),
        T::DateFormat => (
            "请按 2026-12-03 这样的格式写日期",
            "Write the date like 2026-12-03",
        ),
        T::DayEarlier => ("前一天", "A day earlier"),
        T::DayLater => ("后一天", "A day later"),
        T::DaysShort => ("天", " days"),
        T::Today => ("今天", "Today"),
        T::Earliest => ("最早", "Earliest"),
        T::Latest => ("最晚", "Latest"),
        T::DeductionNeedsPhoto => (
            "这项扣分需要照片作证：先撤回扣分，再删除最后一张照片",
            "This deduction needs a photo as evidence: take the deduction back first, then remove the last photo",
        ),
        T::RecordCreated => ("建立记录", "Record created"),
        T::TheServer => ("服务器", "The server"),
        T::ThisPhone => ("本机", "this phone"),
        T::AnotherPhone => ("其他手机", "Another phone"),
        T::OlderChanges => ("更早的修改未列出", "Older changes not listed"),
        T::FixSignInOnline => (
            "离线登录：修改存在手机上，到能连上服务器的地方重新登录后发送",
            "Signed in offline: your work is on the phone; sign in again where the server is reachable to send it",
        ),
        T::FixSignIn => (
            "请在设置里退出后重新登录",
            "sign out in Settings and sign in again",
        ),
        T::FixFreeSpace => (
            "手机存储出错，请清理空间后重启应用",
            "the phone's storage failed: free some space and restart the app",
        ),
        T::FixUpdate => (
            "服务器的回答有误，请更新应用或稍后再试",
            "the server's answer could not be used: update the app or try again later",
        ),
        T::ChooseCleanupDay => ("请选择清理日期", "Choose the day of the cleanup"),
        T::PhotoAdded => (
            "照片已添加，提交后一起保存",
            "Photo added: it is saved when you submit",
        ),
        T::PlaceInCategory => ("同类支部中名次", "Place among its category"),
        T::BranchProblems => ("本支部未整改问题", "The branch's open problems"),
        T::MyMoney => ("我的奖罚（元）", "My bonus / penalty (yuan)"),
        T::ZoneTrend => ("逐月得分", "Month by month"),
        T::TapZoneForTrend => (
            "点责任区名称看它逐月的得分",
            "Tap a zone to see it month by month",
        ),
        T::ChangeFromBefore => ("较上月", "Change"),
        T::InspectionShort => ("检查", "Inspection"),
        T::MonthColumn => ("月份", "Month"),
        T::NoMonths => (
            "手机上还没有这个责任区的月度结果：同步后再看",
            "No monthly results for this zone on the phone yet: sync, then look again",
        ),
        T::Drafts => ("未提交的草稿", "Unfinished drafts"),
        T::DiscardDraft => ("放弃", "Discard"),
        T::ConfirmDiscard => (
            "确定放弃？已填写的内容和照片都会删除",
            "Discard it? What was typed and its photos go",
        ),
        T::KeepDraft => ("保留", "Keep"),
        T::DraftRestored => ("已恢复上次未提交的内容", "What you typed last time is back"),
        T::DraftPhotos => ("张照片", "photos"),
        T::OpenPhoto => ("查看照片", "Open photo"),
        T::RemovePhoto => ("删除", "Remove"),
        T::Close => ("关闭", "Close"),
        T::Annotate => ("标注", "Mark up"),
        T::MarkCircle => ("◯ 圈", "◯ Circle"),
        T::MarkArrow => ("➚ 箭头", "➚ Arrow"),
        T::MarkLabel => ("文字", "Label"),
        T::Undo => ("↶ 撤销", "↶ Undo"),
        T::Done => ("完成", "Done"),
        T::Cancel => ("取消", "Cancel"),
        T::LabelWords => ("标注文字（20 字以内）", "Label (up to 20 characters)"),
        T::LabelFirst => (
            "先输入或选好文字，再点照片",
            "Type or pick the words first, then tap the photo",
        ),
        T::AnnotateHint => (
            "在照片上拖动画圈或箭头，点一下放下标记；拖动黄色大圆点调整刚画的标记",
            "Drag on the photo to draw a circle or an arrow, or tap to drop one; drag the big yellow dots to adjust the last mark",
        ),
        T::ClearMarks => ("全部清除", "Clear all"),
        T::Removed => ("（删除）", "(removed)"),
        T::Reapply => ("重新提交", "Apply again"),
        T::ReapplyHint => (
            "原因消除后（如管理人员已重新开放该月），点“重新提交”；不再需要就点“放弃此修改”",
            "Once the cause is gone (say a manager reopened the month), tap Apply again; if it is no longer needed, Discard this edit",
        ),
        T::Reapplied => (
            "已重新提交：同步后由服务器再次审核",
            "Applied again: the server checks it at the next sync",
        ),
    };
    lang.pick(zh, en)
}

/// A photo error in the user's language, with what to do.
pub fn photo_error(lang: Lang, e: &PhotoError) -> String {
    const MB: u64 = crate::photo::MB;
    if lang == Lang::En {
        return e.to_string();
    }
    match e {
        PhotoError::Read(io) => format!("读不到照片文件（{io}）：请确认文件还在，再选一次"),
        PhotoError::Empty => "照片文件是空的：请重新选择，或重新拍照".to_owned(),
        PhotoError::FileTooLarge { bytes, limit } => format!(
            "照片文件有 {} MB，超过了 {} MB 的上限：请调低分辨率重新拍",
            bytes.div_ceil(MB),
            limit / MB
        ),
        PhotoError::TooManyPixels {
            width,
            height,
            limit,
        } => format!(
            "照片有 {width}×{height} 像素，超过了 {} 百万像素的上限：请调低分辨率重新拍",
            limit / 1_000_000
        ),
        PhotoError::TooMuchMemory { limit } => format!(
            "打开这张照片需要超过 {} MB 内存：请调低分辨率重新拍",
            limit / MB
        ),
        PhotoError::Format { found } => {
            format!("这个文件不是能读取的照片（{found}）：请选择 JPEG、PNG 或 WebP 照片")
        }
        PhotoError::Truncated => "照片文件不完整（没有保存或复制完）：请重新拍照".to_owned(),
        PhotoError::Corrupt { why } => format!("照片文件已损坏（{why}）：请重新拍照"),
        PhotoError::Unsupported { why } => {
            format!("这张照片用了无法读取的格式（{why}）：请存成普通 JPEG 再试")
        }
        PhotoError::Settings(why) => format!("照片设置有误（{why}）"),
        PhotoError::Store(e) => format!("手机存储出错（{e}）：请清理空间后再试"),
        PhotoError::Interrupted => "应用正在关闭，照片没有添加：请再添加一次".to_owned(),
    }
}

/// A sync or sign-in error in the user's language, with what to do.
pub fn sync_error(lang: Lang, e: &SyncError) -> String {
    if lang == Lang::En {
        return e.to_string();
    }
    match e {
        SyncError::NotSignedIn => "还没有登录：请先登录".to_owned(),
        SyncError::Offline(why) => {
            format!("连不上服务器（{why}）：修改已保存在手机上，联网后会自动发送")
        }
        SyncError::Unauthorized(why) => {
            format!("服务器不接受这次登录（{why}）：请检查用户名和密码，或重新登录")
        }
        SyncError::TooManyAttempts(seconds) => format!(
            "这个用户名密码错误次数太多：请等 {} 分钟后再试，或请管理员重设密码",
            crate::sync::minutes(*seconds)
        ),
        SyncError::Busy(seconds) => {
            format!("服务器正忙：修改已保存在手机上，请 {seconds} 秒后再试（应用也会自动重试）")
        }
        SyncError::Server { status, message } => format!("服务器返回 {status}：{message}"),
        SyncError::Protocol(why) => format!("看不懂服务器的回答（{why}）：请更新应用，或稍后再试"),
        SyncError::SignedInOffline => {
            "这是在手机上离线登录的：修改已保存在手机上，请在能连上服务器的地方重新登录后发送".to_owned()
        }
        SyncError::Unlock(e) => unlock(e),
        SyncError::Store(e) => format!("手机存储出错（{e}）：请清理空间后重启应用"),
        SyncError::BadAuthority => "这不是证书：请粘贴信息中心给的完整证书文本，从 -----BEGIN CERTIFICATE----- 到 -----END CERTIFICATE-----".to_owned(),
    }
}

/// Why a meeting with another phone failed, in the user's language.
pub fn relay_error(lang: Lang, e: &crate::relay::RelayError) -> String {
    use crate::relay::RelayError;
    if lang == Lang::En {
        return e.to_string();
    }
    match e {
        RelayError::NotSignedIn => "请先在能连上服务器的地方登录一次，再与其他手机交换".to_owned(),
        RelayError::NoDeviceList => {
            "请先与服务器同步一次：这部手机还不知道本队有哪些手机".to_owned()
        }
        RelayError::StaleList(days) => format!(
            "这部手机已有 {days} 天没有连上服务器：请先同步，以便知道哪些手机已被吊销，再与其他手机交换"
        ),
        RelayError::NoInvite => {
            "对方手机没有接受连接：请核对对方显示的地址和配对码，把两部手机靠近些，再试一次"
                .to_owned()
        }
        RelayError::Stranger(who) => {
            format!("对方不是本队登记的手机（{who}）：什么都没有交换")
        }
        RelayError::Io(why) => format!("与对方手机的连接断了（{why}）：请把两部手机靠近些再试"),
        RelayError::Channel(why) => format!("对方手机发来的内容不对（{why}）：没有再收下任何东西"),
        RelayError::Store(e) => format!("手机存储出错（{e}）：请清理空间后重启应用"),
    }
}

/// Why an offline sign-in did not open, in Chinese.
fn unlock(e: &crate::store::Unlock) -> String {
    use crate::store::{OFFLINE_DAYS, Unlock};
    match e {
        Unlock::Unknown(user) => {
            format!("{user} 还没有在这部手机上联网登录过：请先在能连上服务器的地方登录一次")
        }
        Unlock::OtherServer { user, server } => {
            format!("{user} 在这部手机上登录的是 {server}，不是这个服务器：请检查服务器地址")
        }
        Unlock::TooOld => {
            format!("服务器已超过 {OFFLINE_DAYS} 天没有核对这个密码：请在能连上服务器的地方登录")
        }
        Unlock::Wrong { left } => format!("密码不对（再错 {left} 次要等一会儿才能再试）"),
        Unlock::Wait { seconds } => {
            format!("密码错误次数太多：请 {seconds} 秒后再试")
        }
        Unlock::Store(e) => format!("手机存储出错（{e}）：请清理空间后重启应用"),
    }
}

/// Why the server refused an edit and what to do, in the user's language. The server's own
/// sentence (English, naming the field) is the whole text in English, and the detail below
/// the Chinese one.
pub fn refusal(lang: Lang, refusal: &Refusal) -> String {
    if lang == Lang::En {
        return refusal.reason.clone();
    }
    match refusal.code {
        RefusalCode::Malformed => "这条记录读不出来，服务器没有收下：请更新应用后重新填写",
        RefusalCode::NotGenesis => "这条记录的开头不完整，服务器没有收下：请重新填写",
        RefusalCode::WrongBranch => "这条记录属于别的支部：只能填写本支部的记录",
        RefusalCode::NotWriter => {
            "你不能修改这一项（角色不符、不在巡查名单上，或手机上的资料还不全）：请先同步，或找有权限的人修改"
        }
        RefusalCode::Immutable => {
            "这一项建好后不能再改（或另一部手机已先改过）：请先同步；如需更正，请新建一条"
        }
        RefusalCode::OutOfRange => {
            "有数值超出范围、用到了不存在的内容，或日期在将来：请检查内容和手机时间后重新填写"
        }
        RefusalCode::Locked => "这个时段已经发布锁定：请党委管理人员重新开放后再改",
    }
    .to_owned()
}

#[cfg(test)]
mod tests {
    use zonepatrol_shared::{PatrolKind, Severity};

    use super::*;

    #[test]
    fn chinese_is_the_default_and_english_is_there() {
        assert_eq!(Lang::default(), Lang::Zh);
        assert_eq!(tr(Lang::default(), T::AppTitle), "党员责任区巡查");
        assert_eq!(tr(Lang::En, T::AppTitle), "Zone Patrol");
        assert_eq!(Lang::from_code("en-GB"), Lang::En);
        assert_eq!(Lang::from_code("zh-CN"), Lang::Zh);
        assert_eq!(Lang::from_code(""), Lang::Zh);
        assert_eq!(patrol_kind(Lang::Zh, PatrolKind::TenDay), "旬督导");
        assert_eq!(severity(Lang::En, Severity::Major), "Major");
    }

    #[test]
    fn errors_speak_the_user_s_language_and_say_what_to_do() {
        let e = PhotoError::Format {
            found: "a PDF document".into(),
        };
        assert!(photo_error(Lang::Zh, &e).contains("请选择 JPEG"));
        assert_eq!(photo_error(Lang::En, &e), e.to_string());
        let too_big = PhotoError::FileTooLarge {
            bytes: 60 * crate::photo::MB,
            limit: 50 * crate::photo::MB,
        };
        assert!(
            photo_error(Lang::Zh, &too_big).contains("60 MB"),
            "{}",
            photo_error(Lang::Zh, &too_big)
        );
        let e = SyncError::Unauthorized("wrong password".into());
        assert!(sync_error(Lang::Zh, &e).contains("请检查用户名和密码"));
        assert!(sync_error(Lang::En, &e).contains("sign in again"));
    }

    #[test]
    fn chinese_strings_are_chinese() {
        // A cheap guard against a key left with English in its Chinese slot.
        for key in [
            T::SignIn,
            T::StartPatrol,
            T::NotApplicable,
            T::Overdue,
            T::Saved,
            T::ZoneTrend,
            T::MyMoney,
        ] {
            assert!(
                tr(Lang::Zh, key)
                    .chars()
                    .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
                "{key:?}"
            );
        }
    }
}
