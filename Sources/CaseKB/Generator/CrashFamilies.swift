import Foundation

/// Root-cause families the corpus generator draws WinDbg output from. Each family is one root cause that crashes
/// under several bugcheck codes and boilerplate frames, as real drivers do (the seed's vwifimf crashed as 0x1E,
/// 0xFC, 0x50 and 0xD1).
public struct CrashFamily: Sendable {
    public var id: String
    /// Bugcheck codes this cause shows up as.
    public var bugchecks: [UInt32]
    /// The frames that stay the same across dumps (innermost first), below the boilerplate.
    public var coreFrames: [String]
    /// Frames further out that vary in depth.
    public var outerFrames: [String]
    public var culpritModule: String
    public var poolTag: String?
    public var product: String
    public var symptomZH: String
    public var symptomEN: String
    public var adviceZH: String
    public var adviceEN: String
    public var kb: String?

    public static let all: [CrashFamily] = [
        CrashFamily(id: "vwifimf-ptos", bugchecks: [0x1E, 0xFC, 0x50, 0xD1],
                    coreFrames: ["nwifi!Dot11SendCompletion", "nwifi!Pt6SendComplete", "ndis!ndisCallSendCompleteHandler"],
                    outerFrames: ["ndis!ndisDataPathExpandStackCallback", "nt!KeExpandKernelStackAndCalloutInternal", "nt!KeExpandKernelStackAndCalloutEx", "ndis!NdisFSendNetBufferListsComplete", "vwifimf+0x1f92"],
                    culpritModule: "vwifimf", poolTag: "Filt", product: "TMS",
                    symptomZH: "连接无线网络拷贝文件时蓝屏", symptomEN: "blue screen while copying files over Wi-Fi",
                    adviceZH: "建议卸载vwifimf.sys驱动，或联系TMS厂商排查NBL的pTOS参数被置空的问题。", adviceEN: "We recommend uninstalling vwifimf.sys or contacting the TMS vendor about the corrupted pTOS entry.", kb: nil),
        CrashFamily(id: "iastorac-dpc", bugchecks: [0x133, 0x9C],
                    coreFrames: ["iaStorAC+0x21c6d", "iaStorAC+0x1f2d8", "nt!KiExecuteAllDpcs"],
                    outerFrames: ["nt!KiRetireDpcList", "nt!KiIdleLoop"],
                    culpritModule: "iaStorAC", poolTag: nil, product: "Intel RST",
                    symptomZH: "大文件拷贝时 DPC 超时蓝屏", symptomEN: "DPC watchdog blue screens during large file copies",
                    adviceZH: "建议将 Intel RST 驱动 iaStorAC.sys 升级到 17.11 以上版本。", adviceEN: "Please update the Intel RST driver iaStorAC.sys to 17.11 or later.", kb: nil),
        CrashFamily(id: "netwtw-power", bugchecks: [0x9F],
                    coreFrames: ["nt!PopIrpWatchdogBugcheck", "nt!PopIrpWatchdog", "Netwtw10+0x3a1f0"],
                    outerFrames: ["nt!KiProcessExpiredTimerList", "nt!KiRetireDpcList", "nt!KiIdleLoop"],
                    culpritModule: "Netwtw10", poolTag: nil, product: "Intel Wi-Fi",
                    symptomZH: "睡眠唤醒后蓝屏", symptomEN: "blue screen after resume from sleep",
                    adviceZH: "建议将无线网卡驱动 Netwtw10.sys 回退到 22.40 版本后观察。", adviceEN: "We recommend rolling back the Wi-Fi driver Netwtw10.sys to 22.40 and observing.", kb: nil),
        CrashFamily(id: "vmswitch-nic", bugchecks: [0x1E, 0x3B],
                    coreFrames: ["vmswitch!VmsVmNicPvtKmclProcessingComplete", "vmswitch!VmsExtPtRouteNetBufferLists", "ndis!ndisMIndicateNetBufferListsToOpen"],
                    outerFrames: ["ndis!ndisMTopReceiveNetBufferLists", "nt!KiRetireDpcList"],
                    culpritModule: "vmswitch", poolTag: "VSnb", product: "Hyper-V",
                    symptomZH: "Hyper-V 主机补丁后重启", symptomEN: "Hyper-V host reboots after patch night",
                    adviceZH: "请安装 KB5025229 修复 vmswitch 问题。", adviceEN: "Please install KB5025229, which fixes this vmswitch issue.", kb: "KB5025229"),
        CrashFamily(id: "edrsensor-exit", bugchecks: [0x3B, 0x50, 0x7E],
                    coreFrames: ["edrsensor+0x1b4c", "edrsensor+0x8d1", "nt!PspCallProcessNotifyRoutines"],
                    outerFrames: ["nt!PspExitProcess", "nt!PspExitThread", "nt!NtTerminateProcess"],
                    culpritModule: "edrsensor", poolTag: "EdrS", product: "EDR sensor",
                    symptomZH: "安装新版 EDR 后进程退出时蓝屏", symptomEN: "blue screens when processes exit after the EDR upgrade",
                    adviceZH: "建议将 EDR 回退到 4.1.98 版本，并联系厂商确认。", adviceEN: "Please roll back the EDR sensor to 4.1.98 and ask the vendor.", kb: nil),
        CrashFamily(id: "nvlddmkm-tdr", bugchecks: [0x116, 0x119],
                    coreFrames: ["dxgkrnl!TdrBugcheckOnTimeout", "dxgkrnl!TdrResetFromTimeout", "nvlddmkm+0x9a5c20"],
                    outerFrames: ["dxgkrnl!DXGADAPTER::Reset", "dxgkrnl!TdrResetFromTimeoutWorkItem", "nt!ExpWorkerThread"],
                    culpritModule: "nvlddmkm", poolTag: nil, product: "NVIDIA display driver",
                    symptomZH: "运行三维软件时黑屏后蓝屏", symptomEN: "screen goes black then bugchecks in 3D applications",
                    adviceZH: "建议升级显卡驱动 nvlddmkm.sys 到最新版本。", adviceEN: "Please update the display driver nvlddmkm.sys to the latest release.", kb: nil),
        CrashFamily(id: "fltmgr-av", bugchecks: [0xEF, 0x7E],
                    coreFrames: ["avfilter+0x5e21", "FLTMGR!FltpPerformPreCallbacksWorker", "FLTMGR!FltpPassThroughInternal"],
                    outerFrames: ["FLTMGR!FltpCreate", "nt!IofCallDriver", "nt!IopParseDevice"],
                    culpritModule: "avfilter", poolTag: "AvFl", product: "antivirus",
                    symptomZH: "开机时 CRITICAL_PROCESS_DIED 蓝屏", symptomEN: "CRITICAL_PROCESS_DIED at boot",
                    adviceZH: "建议卸载新版防毒软件 avfilter.sys 后观察，并收集完整内存转储。", adviceEN: "Please uninstall the new antivirus filter avfilter.sys and collect a full memory dump if it recurs.", kb: nil),
        CrashFamily(id: "usb-verifier", bugchecks: [0xC4, 0x1000007E],
                    coreFrames: ["nt!VerifierBugCheckIfAppropriate", "nt!VfCheckUserHandle", "usbguard+0x2a39"],
                    outerFrames: ["usbguard+0x2b92", "usbguard+0x1c0d", "nt!IopfCompleteRequest"],
                    culpritModule: "usbguard", poolTag: "UsbG", product: "USB control software",
                    symptomZH: "插拔U盘时蓝屏", symptomEN: "bugcheck when a USB stick is plugged in",
                    adviceZH: "建议联系USB管控软件厂商排查 usbguard.sys。", adviceEN: "Please contact the USB control software vendor about usbguard.sys.", kb: nil),
    ]
}

/// The bugcheck names the generator writes (a subset of Resources/bugcheck-codes.tsv).
enum GeneratorBugcheckNames {
    static let names: [UInt32: String] = [
        0x1E: "KMODE_EXCEPTION_NOT_HANDLED", 0x3B: "SYSTEM_SERVICE_EXCEPTION", 0x50: "PAGE_FAULT_IN_NONPAGED_AREA",
        0x7E: "SYSTEM_THREAD_EXCEPTION_NOT_HANDLED", 0x9C: "MACHINE_CHECK_EXCEPTION", 0x9F: "DRIVER_POWER_STATE_FAILURE",
        0xC4: "DRIVER_VERIFIER_DETECTED_VIOLATION", 0xD1: "DRIVER_IRQL_NOT_LESS_OR_EQUAL", 0xEF: "CRITICAL_PROCESS_DIED",
        0xFC: "ATTEMPTED_EXECUTE_OF_NOEXECUTE_MEMORY", 0x116: "VIDEO_TDR_FAILURE", 0x119: "VIDEO_SCHEDULER_INTERNAL_ERROR",
        0x133: "DPC_WATCHDOG_VIOLATION", 0x1000007E: "SYSTEM_THREAD_EXCEPTION_NOT_HANDLED_M",
    ]
}
