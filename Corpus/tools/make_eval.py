#!/usr/bin/env python3
"""Writes the labelled evaluation set for similar-case lookup: Corpus/eval/*.eml and Corpus/eval/labels.tsv.

Seven root-cause groups, each with threads whose dumps differ in bugcheck, boilerplate, frame depth and symbols
(one vwifimf thread has no stack at all, only prose naming the driver and function), plus distractors that share a
driver or a bugcheck with a group but not its cause. Every thread is an engineer's reply quoting the customer's
report, as real support mail is. Run from anywhere; the output is committed.
"""
import base64, os

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'eval')
os.makedirs(ROOT, exist_ok=True)

def kc(frames):
    return "0: kd> kc\n # Call Site\n" + "".join("%02x %s\n" % (i, f) for i, f in enumerate(frames))

def k(frames, base=0xffff840132bdd808):
    out = " # Child-SP          RetAddr               Call Site\n"
    for i, f in enumerate(frames):
        sp = base + i * 0x40
        out += "%02x %08x`%08x fffff801`%08x     %s\n" % (i, sp >> 32, sp & 0xffffffff, 0x40745107 + i * 0x1111, f)
    return out

def stack_text(frames):
    out = "STACK_TEXT:  \n"
    for i, f in enumerate(frames):
        out += "ffffb581`0ea3%04x fffff804`7cc3%04x     : 00000000`00000000 00000000`00000000 00000000`00000000 00000000`00000000 : %s\n" % (0xfc88 + i * 8, 0xb6a2 + i, f)
    return out

def mext(frames):
    out = " # Child-SP         Return           Call Site\n"
    for i, f in enumerate(frames):
        out += "%2x ffff9903d62c%04x fffff80162c3%04x %s\n" % (i, 0x66f8 + i * 0x40, 0xe483 + i, f)
    return out

def title(name, code, args):
    s = "%s (%x)\nArguments:\n" % (name, code)
    for i, a in enumerate(args):
        s += "Arg%d: %016x, parameter %d\n" % (i + 1, a, i + 1)
    return s

def mail(name, subject, customer, customer_text, engineer, body, date, msgid, zh=True):
    quote = ("\n-----邮件原件-----\n发件人: %s\n发送时间: %s\n主题: %s\n\n%s\n" % (customer, date, subject, customer_text)) if zh else \
            ("\n-----Original Message-----\nFrom: %s\nSent: %s\nSubject: %s\n\n%s\n" % (customer, date, subject, customer_text))
    text = body + "\n" + ("谢谢\n" if zh else "Regards,\n") + engineer + "\n" + quote
    payload = base64.b64encode(text.encode('gb18030' if zh else 'utf-8')).decode()
    payload = "\n".join(payload[i:i + 76] for i in range(0, len(payload), 76))
    enc_subject = "=?utf-8?B?%s?=" % base64.b64encode(("答复: " if zh else "RE: ") .encode() + subject.encode()).decode()
    eml = ("From: %s <support@support.example.com>\nTo: customer@example.com\nSubject: %s\nDate: %s\nMessage-ID: <%s@eval.example>\n"
           "MIME-Version: 1.0\nContent-Type: text/plain; charset=%s\nContent-Transfer-Encoding: base64\n\n%s\n") % (
        engineer if engineer.isascii() else "=?utf-8?B?%s?=" % base64.b64encode(engineer.encode()).decode(),
        enc_subject, date, msgid, 'gb18030' if zh else 'utf-8', payload)
    open(os.path.join(ROOT, name), 'w', newline='').write(eml.replace('\n', '\r\n'))

labels = []
def thread(name, group, comment, **kw):
    mail(name, **kw)
    labels.append((name, group, comment))

BOIL_1E = ["nt!KeBugCheckEx", "nt!KiFatalFilter+0x1f", "nt!KeExpandKernelStackAndCalloutInternal$filt$0+0x16", "nt!__C_specific_handler+0x9f",
           "nt!RtlDispatchException+0x430", "nt!KiDispatchException+0x144", "nt!KiExceptionDispatch+0xc2", "nt!KiPageFault+0x42e"]
VW_CORE = ["nwifi!Dot11SendCompletion+0x4b", "nwifi!Pt6SendComplete+0x1d", "ndis!ndisCallSendCompleteHandler+0x33"]
VW_OUT = ["ndis!ndisDataPathExpandStackCallback+0x3e", "nt!KeExpandKernelStackAndCalloutInternal+0x78", "nt!KeExpandKernelStackAndCalloutEx+0x1d",
          "ndis!NdisFSendNetBufferListsComplete+0x28dc4", "vwifimf+0x1f92", "ndis!ndisCallSendCompleteHandler+0x33"]
POOL_FILT = ("1: kd> !pool ffff8102`1744d1b0\nPool page ffff81021744d1b0 region is Nonpaged pool\n"
             " ffff81021744d100 size:   30 previous size:    0  (Allocated)  DSnd\n*ffff81021744d190 size:   30 previous size:    0  (Allocated) *Filt\n"
             "1: kd> !tag Filt\nvwifimf              1 0.0.0.0 06/23/2020 03:10:42 \\SystemRoot\\system32\\DRIVERS\\vwifimf.sys\n")

# --- group vwifimf-ptos: one cause, four bugchecks, different boilerplate, depth, and a prose-only member
thread("vw-1e-mext.eml", "vwifimf-ptos", "0x1E, !mex.t with a bare corrupt address",
       subject="CAS-20001-VW1E01 - 无线拷贝文件蓝屏", customer="赵敏 <zhaomin@bank-a.example>", customer_text="又出现一次蓝屏，dump 已上传。",
       engineer="华斌", date="Mon, 07 Sep 2020 10:00:00 +0800", msgid="vw-1e",
       body="Hi，\nBugcheck 0x1e，pTOS 数据异常。\n" + title("KMODE_EXCEPTION_NOT_HANDLED", 0x1e, [0xffffffff80000003, 0xfffff801404e6235, 0xffff840132bde868, 0xffff840132bde0b0])
       + mext(BOIL_1E + ["0x3200360035"] + VW_CORE + VW_OUT[:1]) + POOL_FILT + "下一步建议：\n卸载vwifimf.sys驱动，或联系TMS厂商排查。\n")
thread("vw-fc-kc.eml", "vwifimf-ptos", "0xFC, kc, data symbol executed",
       subject="CAS-20002-VWFC02 - 网盘拷贝时蓝屏 0xFC", customer="钱进 <qianjin@bank-b.example>", customer_text="T490s 又蓝屏了。",
       engineer="李琦", date="Tue, 08 Sep 2020 11:00:00 +0800", msgid="vw-fc",
       body="您好：\n" + title("ATTEMPTED_EXECUTE_OF_NOEXECUTE_MEMORY", 0xfc, [0xfffff8032addb290, 0x89000002284fe863, 0xfffff08f489f4b50, 2])
       + kc(["nt!KeBugCheckEx", "nt!MiCheckSystemNxFault", "nt!MiSystemFault", "nt!MmAccessFault", "nt!KiPageFault", "tcpip!Ipv4Global",
             "nwifi!Dot11SendCompletion", "nwifi!Pt6SendComplete", "ndis!ndisCallSendCompleteHandler", "ndis!ndisDataPathExpandStackCallback"])
       + "pTOS 所在内存由 vwifimf.sys 维护。建议卸载vwifimf.sys驱动。\n")
thread("vw-50-k.eml", "vwifimf-ptos", "0x50, k with offsets, deeper stack",
       subject="CAS-20003-VW5003 - X1 蓝屏 PAGE_FAULT", customer="孙磊 <sunlei@bank-c.example>", customer_text="财务部电脑蓝屏。",
       engineer="张伟", date="Wed, 09 Sep 2020 12:00:00 +0800", msgid="vw-50",
       body="您好，分析如下：\n" + title("PAGE_FAULT_IN_NONPAGED_AREA", 0x50, [0xffffffffffffffe8, 0, 0xfffff8057b5694fd, 2])
       + k(["nt!KeBugCheckEx", "nt!KiBugCheckDispatch+0x69", "nt!KiPageFault+0x358"] + VW_CORE + VW_OUT)
       + "建议联系TMS厂商确认 vwifimf.sys。\n")
thread("vw-d1-stacktext.eml", "vwifimf-ptos", "0xD1, STACK_TEXT, without nwifi symbols for the outer frames",
       subject="REG:120090900000451 wifi copy crash D1", customer="Ana Souza <ana@bank-d.example>", customer_text="Another crash while copying over Wi-Fi.",
       engineer="Daniel Ortiz", date="Thu, 10 Sep 2020 09:00:00 +0000", msgid="vw-d1", zh=False,
       body="Hi Ana,\n\nBugCheck D1, {fffff8057b5694fd, 2, 0, fffff8013ed59513}\n\n" + stack_text(["nt!KeBugCheckEx", "nt!KiBugCheckDispatch+0x69", "nt!KiPageFault+0x358"] + VW_CORE + ["ndis+0x2a6a3", "vwifimf+0x1f92"])
       + "\nThe packet context belongs to vwifimf.sys. We recommend uninstalling vwifimf.sys or contacting the TMS vendor.\n")
thread("vw-prose-only.eml", "vwifimf-ptos", "no stack: prose names the driver and the function",
       subject="CAS-20005-VWPR05 - 同样的无线蓝屏", customer="周婷 <zhouting@bank-e.example>", customer_text="上周的问题又出现了，但这次没抓到完整 dump。",
       engineer="华斌", date="Fri, 11 Sep 2020 15:00:00 +0800", msgid="vw-prose",
       body="您好：\n这次只有 minidump，堆栈不完整，但异常仍在 nwifi!Dot11SendCompletion 里，调用 pTOS 的 pRoutine 时出错，\n"
            "pTOS 由 vwifimf.sys 设置为空，与之前的案例相同。建议卸载vwifimf.sys驱动。\n")

# --- group gscfmgr-handle: 0xC4 verifier violations from the same TMS driver
GS_BOIL = ["nt!KeBugCheckEx+0x0", "nt!VerifierBugCheckIfAppropriate+0xdf", "nt!VfCheckUserHandle+0x1d4", "nt!ObpReferenceObjectByHandleWithTag+0x1a23ad"]
thread("gs-c4-mext.eml", "gscfmgr-handle", "0xC4 !mex.t, no symbols for gscfmgr",
       subject="CAS-20101-GSC401 - 插拔U盘蓝屏", customer="王建国 <wangjg@bank-a.example>", customer_text="插拔U盘蓝屏。",
       engineer="李琦", date="Mon, 14 Sep 2020 10:00:00 +0800", msgid="gs-1",
       body="您好：\n" + title("DRIVER_VERIFIER_DETECTED_VIOLATION", 0xc4, [0xf6, 0x24b0, 0xffffe6841fa57580, 0xfffff8089d90aa39])
       + mext(GS_BOIL + ["nt!ObReferenceObjectByHandle+0x2e", "nt!NtQuerySymbolicLinkObject+0xf3", "nt!KiSystemServiceCopyEnd+0x13", "nt!KiServiceLinkage+0x0",
                         "nt!VfZwQuerySymbolicLinkObject+0x56", "gscfmgr+0xaa39", "gscfmgr+0xab92", "gscfmgr+0x5c0d"])
       + "建议联系TMS厂商排查 gscfmgr。\n")
thread("gs-c4-kc-sym.eml", "gscfmgr-handle", "0xC4 kc with gscfmgr symbols",
       subject="CAS-20102-GSC402 - USB 设备接入蓝屏", customer="刘洋 <liuyang@bank-b.example>", customer_text="接入 U 盘就蓝屏。",
       engineer="张伟", date="Tue, 15 Sep 2020 10:00:00 +0800", msgid="gs-2",
       body="您好：\nbugcheck为C4\n" + kc(["nt!KeBugCheckEx", "nt!VerifierBugCheckIfAppropriate", "nt!VfCheckUserHandle", "nt!ObpReferenceObjectByHandleWithTag",
                                             "nt!ObReferenceObjectByHandle", "nt!NtQuerySymbolicLinkObject", "nt!KiSystemServiceCopyEnd", "nt!KiServiceLinkage",
                                             "nt!VfZwQuerySymbolicLinkObject", "gscfmgr!GsQuerySymlinkTarget", "gscfmgr!GsDeviceArrival"])
       + "请联系TMS厂商。\n")
thread("gs-c4-short.eml", "gscfmgr-handle", "0xC4 with a short stack",
       subject="REG:120091600000777 verifier C4 gscfmgr", customer="Tom Keller <tom@bank-f.example>", customer_text="Verifier caught something.",
       engineer="Sara Lind", date="Wed, 16 Sep 2020 10:00:00 +0000", msgid="gs-3", zh=False,
       body="Hi Tom,\n\nDRIVER_VERIFIER_DETECTED_VIOLATION (c4): Referencing user handle as KernelMode.\n"
            + kc(["nt!KeBugCheckEx", "nt!VerifierBugCheckIfAppropriate", "nt!VfCheckUserHandle", "nt!ObReferenceObjectByHandle", "gscfmgr+0xaa39", "gscfmgr+0xab92"])
            + "\nPlease contact the vendor of gscfmgr.sys.\n")

# --- group iastorac-dpc: DPC watchdog in the Intel RST ISR/DPC
IA = ["iaStorAC+0x21c6d", "iaStorAC+0x1f2d8", "iaStorAC+0xb8c1"]
thread("ia-133-stacktext.eml", "iastorac-dpc", "0x133 STACK_TEXT",
       subject="SR#120100100000101 DPC_WATCHDOG_VIOLATION Latitude", customer="Priya Raman <priya@corp-a.example>", customer_text="12 laptops crash during copies.",
       engineer="Daniel Ortiz", date="Thu, 01 Oct 2020 10:00:00 +0000", msgid="ia-1", zh=False,
       body="Hi Priya,\n\n" + title("DPC_WATCHDOG_VIOLATION", 0x133, [1, 0x1e00, 0xfffff8047d6fb320, 0])
       + stack_text(["nt!KeBugCheckEx", "nt!KeAccumulateTicks+0x1c8b72", "nt!KeClockInterruptNotify+0x453", "nt!HalpTimerClockIpiRoutine+0x1a",
                     "nt!KiCallInterruptServiceRoutine+0xa5", "nt!KiInterruptDispatchNoLockNoEtw+0x37"] + IA + ["nt!KiExecuteAllDpcs+0x2e0", "nt!KiRetireDpcList+0x1f4"])
       + "\nIMAGE_NAME:  iaStorAC.sys\n\nWe recommend updating the Intel RST driver iaStorAC.sys.\n")
thread("ia-133-kc-sym.eml", "iastorac-dpc", "0x133 kc with iaStorAC symbols",
       subject="CAS-20202-IA1332 - 大文件拷贝时 DPC 超时蓝屏", customer="陈静 <chenjing@corp-b.example>", customer_text="拷贝大文件蓝屏。",
       engineer="张伟", date="Fri, 02 Oct 2020 10:00:00 +0800", msgid="ia-2",
       body="您好：\nbugcheck 133\n" + kc(["nt!KeBugCheckEx", "nt!KeAccumulateTicks", "nt!KeClockInterruptNotify", "nt!KiInterruptDispatchNoLockNoEtw",
                                         "iaStorAC!AhciPortCompleteRequest", "iaStorAC!AhciHwInterrupt", "iaStorAC!RaidAdapterInterruptRoutine",
                                         "nt!KiExecuteAllDpcs", "nt!KiRetireDpcList", "nt!KiIdleLoop"])
       + "建议将 Intel RST 驱动 iaStorAC.sys 升级到最新版本。\n")
thread("ia-133-deep.eml", "iastorac-dpc", "0x133 k, deeper, no symbols",
       subject="CAS-20203-IA1333 - 加密盘写入时蓝屏", customer="孙磊 <sunlei@corp-c.example>", customer_text="写入 D 盘蓝屏。",
       engineer="李琦", date="Sat, 03 Oct 2020 10:00:00 +0800", msgid="ia-3",
       body="您好：\nDPC_WATCHDOG_VIOLATION (133)\n" + k(["nt!KeBugCheckEx", "nt!KeAccumulateTicks+0x1c8b72", "nt!KeClockInterruptNotify+0x453",
                                                     "nt!KiInterruptDispatchNoLockNoEtw+0x37"] + IA + ["storport!RaidpAdapterDpcRoutine+0x4c", "nt!KiExecuteAllDpcs+0x2e0",
                                                     "nt!KiRetireDpcList+0x1f4", "nt!KiIdleLoop+0x9e"])
       + "IMAGE_NAME:  iaStorAC.sys\n建议升级 iaStorAC.sys 驱动。\n")

# --- group netwtw-power: power IRP blocked by the Intel Wi-Fi driver
NW = ["nt!KeBugCheckEx", "nt!PopIrpWatchdogBugcheck+0xdf", "nt!PopIrpWatchdog+0x25", "Netwtw10+0x3a1f0"]
thread("nw-9f-k.eml", "netwtw-power", "0x9F k", subject="CAS-20301-NW9F01 - 睡眠唤醒蓝屏 0x9F", customer="王建国 <wangjg@corp-d.example>",
       customer_text="唤醒后蓝屏。", engineer="张伟", date="Mon, 12 Oct 2020 10:00:00 +0800", msgid="nw-1",
       body="您好：\n" + title("DRIVER_POWER_STATE_FAILURE", 0x9f, [3, 0xffffc50f8a3b2060, 0xfffff8025e46f850, 0xffffc50f9156b8a0])
       + k(NW + ["nt!KiProcessExpiredTimerList+0x1de", "nt!KiRetireDpcList+0x4e4", "nt!KiIdleLoop+0x9e"]) + "IRP 停在 Netwtw10.sys。建议将无线网卡驱动 Netwtw10.sys 回退到 22.40 版本。\n")
thread("nw-9f-kc.eml", "netwtw-power", "0x9F kc, shorter", subject="REG:120101300000888 resume from sleep 9F", customer="Marco Bianchi <marco@corp-e.example>",
       customer_text="Crash after resume.", engineer="Aiko Tanaka", date="Tue, 13 Oct 2020 10:00:00 +0000", msgid="nw-2", zh=False,
       body="Hi Marco,\n\nbugcheck 0x9F.\n" + kc(["nt!KeBugCheckEx", "nt!PopIrpWatchdogBugcheck", "nt!PopIrpWatchdog", "Netwtw10"]) + "\nThe blocked IRP sits in Netwtw10.sys. Please roll back the Wi-Fi driver.\n")
thread("nw-9f-sym.eml", "netwtw-power", "0x9F with Netwtw10 symbols", subject="CAS-20303-NW9F03 - 合盖后蓝屏", customer="周婷 <zhouting@corp-f.example>",
       customer_text="合盖再打开蓝屏。", engineer="李琦", date="Wed, 14 Oct 2020 10:00:00 +0800", msgid="nw-3",
       body="您好：\n蓝屏代码 0x0000009F\n" + kc(["nt!KeBugCheckEx", "nt!PopIrpWatchdogBugcheck", "nt!PopIrpWatchdog", "Netwtw10!prvPowerSetDevicePower",
                                                 "Netwtw10!utilPowerIrpHandler", "nt!KiProcessExpiredTimerList"]) + "建议回退 Netwtw10.sys 无线网卡驱动。\n")

# --- group edrsensor-exit: an EDR sensor faulting in the process-exit callback
ED = ["edrsensor+0x1b4c", "edrsensor+0x8d1", "nt!PspCallProcessNotifyRoutines+0x212", "nt!PspExitProcess+0x70"]
thread("ed-3b-kv.eml", "edrsensor-exit", "0x3B kv", subject="CAS-20401-ED3B01 - another 0x3B on PC-SH-0231", customer="Ming Zhao <ming@corp-g.example>",
       customer_text="Another crash tonight.", engineer="Lena Fischer", date="Mon, 02 Nov 2020 10:00:00 +0000", msgid="ed-1", zh=False,
       body="Hi Ming,\n\nBugCheck 3B, {c0000005, fffff8066d2a1b4c, ffffa60f3e1d6920, 0}\n" + stack_text(["nt!KeBugCheckEx", "nt!KiBugCheckDispatch+0x69", "nt!KiSystemServiceHandler+0x7c",
            "nt!RtlpExecuteHandlerForException+0xf", "nt!RtlDispatchException+0x297", "nt!KiDispatchException+0x186", "nt!KiExceptionDispatch+0x12c", "nt!KiPageFault+0x41f"] + ED)
       + "\nPlease roll back the EDR sensor to 4.1.98 and ask the vendor.\n")
thread("ed-50-kc.eml", "edrsensor-exit", "0x50 kc", subject="CAS-20402-ED5002 - 进程退出时蓝屏", customer="赵敏 <zhaomin@corp-h.example>",
       customer_text="关闭程序时蓝屏。", engineer="华斌", date="Tue, 03 Nov 2020 10:00:00 +0800", msgid="ed-2",
       body="您好：\nPAGE_FAULT_IN_NONPAGED_AREA (50)\n" + kc(["nt!KeBugCheckEx", "nt!MiSystemFault", "nt!MmAccessFault", "nt!KiPageFault", "edrsensor", "edrsensor",
                                                          "nt!PspCallProcessNotifyRoutines", "nt!PspExitProcess", "nt!PspExitThread"])
       + "建议将 EDR 回退到 4.1.98 版本。\n")
thread("ed-7e-sym.eml", "edrsensor-exit", "0x7E with edrsensor symbols", subject="CAS-20403-ED7E03 - SYSTEM_THREAD_EXCEPTION 蓝屏", customer="钱进 <qianjin@corp-i.example>",
       customer_text="升级 EDR 后蓝屏。", engineer="张伟", date="Wed, 04 Nov 2020 10:00:00 +0800", msgid="ed-3",
       body="您好：\nbugcheck 0x7e\n" + kc(["nt!KeBugCheckEx", "nt!PspSystemThreadStartup", "edrsensor!EdrOnProcessExit", "edrsensor!EdrDrainQueue",
                                              "nt!PspCallProcessNotifyRoutines", "nt!PspExitProcess"]) + "请联系 EDR 厂商。\n")

# --- group nvlddmkm-tdr: display driver timeouts
NV = ["nt!KeBugCheckEx", "watchdog!WdDbgReportRecreate+0x10a", "dxgkrnl!TdrUpdateDbgReport+0x10b", "dxgkrnl!TdrCollectDbgInfoStage2+0x201",
      "dxgkrnl!DXGADAPTER::Reset+0x5e2", "dxgkrnl!TdrResetFromTimeout+0x15", "nvlddmkm+0x9a5c20"]
thread("nv-116-k.eml", "nvlddmkm-tdr", "0x116 k", subject="CAS-20501-NV1161 - 三维软件黑屏蓝屏", customer="刘洋 <liuyang@corp-j.example>",
       customer_text="CAD 软件黑屏后蓝屏。", engineer="李琦", date="Mon, 07 Dec 2020 10:00:00 +0800", msgid="nv-1",
       body="您好：\nVIDEO_TDR_FAILURE (116)\n" + k(NV + ["dxgkrnl!TdrResetFromTimeoutWorkItem+0x22", "nt!ExpWorkerThread+0x105"]) + "建议升级显卡驱动 nvlddmkm.sys。\n")
thread("nv-119-kc.eml", "nvlddmkm-tdr", "0x119 kc", subject="REG:120120800000999 VIDEO_SCHEDULER 119", customer="Tom Keller <tom@corp-k.example>",
       customer_text="GPU crash in CAD.", engineer="Sara Lind", date="Tue, 08 Dec 2020 10:00:00 +0000", msgid="nv-2", zh=False,
       body="Hi Tom,\n\nVIDEO_SCHEDULER_INTERNAL_ERROR (119)\n" + kc(["nt!KeBugCheckEx", "watchdog!WdLogEvent5_WdCriticalError", "dxgkrnl!TdrResetFromTimeout", "nvlddmkm", "nvlddmkm"])
       + "\nPlease update the display driver nvlddmkm.sys.\n")

# --- group avfilter-boot: an antivirus minifilter killing a critical process at boot
AV = ["avfilter+0x5e21", "FLTMGR!FltpPerformPreCallbacksWorker+0x3a2", "FLTMGR!FltpPassThroughInternal+0xca", "FLTMGR!FltpCreate+0x310"]
thread("av-ef-k.eml", "avfilter-boot", "0xEF k", subject="CAS-20601-AVEF01 - 开机 CRITICAL_PROCESS_DIED", customer="王建国 <wangjg@corp-l.example>",
       customer_text="开机蓝屏。", engineer="华斌", date="Mon, 11 Jan 2021 10:00:00 +0800", msgid="av-1",
       body="您好：\nCRITICAL_PROCESS_DIED (ef)\n" + k(["nt!KeBugCheckEx", "nt!PspCatchCriticalBreak+0x10e", "nt!PspTerminateAllThreads+0x1b5"] + AV + ["nt!IofCallDriver+0x55", "nt!IopParseDevice+0x8b2"])
       + "建议卸载新版防毒软件 avfilter.sys。\n")
thread("av-7e-kc.eml", "avfilter-boot", "0x7E kc", subject="CAS-20602-AV7E02 - 安装防毒软件后蓝屏", customer="陈静 <chenjing@corp-m.example>",
       customer_text="装了防毒软件后蓝屏。", engineer="张伟", date="Tue, 12 Jan 2021 10:00:00 +0800", msgid="av-2",
       body="您好：\nSYSTEM_THREAD_EXCEPTION_NOT_HANDLED (7e)\n" + kc(["nt!KeBugCheckEx", "nt!PspSystemThreadStartup", "avfilter", "FLTMGR!FltpPerformPreCallbacksWorker",
                                                                 "FLTMGR!FltpPassThroughInternal", "FLTMGR!FltpCreate", "nt!IofCallDriver"])
       + "请联系防毒软件厂商。\n")

# --- distractors: share a driver or a bugcheck with a group, not the cause
thread("x-vwifimf-disk.eml", "x-disk-inpage", "distractor: vwifimf installed, but a disk in-page error",
       subject="CAS-20901-XDK001 - 开机蓝屏 0x7A", customer="周婷 <zhouting@corp-n.example>", customer_text="开机蓝屏，机器上装了 TMS。",
       engineer="李琦", date="Mon, 01 Feb 2021 10:00:00 +0800", msgid="x-1",
       body="您好：\nKERNEL_DATA_INPAGE_ERROR (7a)\n" + kc(["nt!KeBugCheckEx", "nt!MiWaitForInPageComplete", "nt!MiIssueHardFault", "nt!MmAccessFault", "nt!KiPageFault",
                                                         "storport!RaidUnitCompleteRequest", "stornvme!NVMeCompletionDpcRoutine", "nt!KiExecuteAllDpcs"])
       + "与 TMS 的 vwifimf.sys 无关，是硬盘读取错误。建议做硬件检测。\n")
thread("x-133-netwtw.eml", "x-netwtw-dpc", "distractor: 0x133 like iaStorAC, but a Wi-Fi DPC",
       subject="CAS-20902-XNW002 - DPC 超时蓝屏", customer="钱进 <qianjin@corp-o.example>", customer_text="联网时 DPC 蓝屏。",
       engineer="张伟", date="Tue, 02 Feb 2021 10:00:00 +0800", msgid="x-2",
       body="您好：\nDPC_WATCHDOG_VIOLATION (133)\n" + kc(["nt!KeBugCheckEx", "nt!KeAccumulateTicks", "nt!KeClockInterruptNotify", "Netwtw10!MpRxDpcRoutine",
                                                          "Netwtw10!rxQueueProcess", "ndis!ndisMDispatchReceiveNetBufferLists", "nt!KiExecuteAllDpcs"])
       + "建议升级 Netwtw10.sys 驱动。\n")
thread("x-1e-sepfilter.eml", "x-sepfilter", "distractor: 0x1E like vwifimf, but a file-system filter",
       subject="REG:120020300000555 KMODE 1E in filter driver", customer="Ana Souza <ana@corp-p.example>", customer_text="Crash on file open.",
       engineer="Daniel Ortiz", date="Wed, 03 Feb 2021 10:00:00 +0000", msgid="x-3", zh=False,
       body="Hi Ana,\n\nKMODE_EXCEPTION_NOT_HANDLED (1e)\n" + k(BOIL_1E[:1] + ["nt!KiDispatchException+0x144", "nt!KiExceptionDispatch+0xc2", "nt!KiPageFault+0x42e",
                                                                        "sepfilter+0x3d21", "FLTMGR!FltpPerformPreCallbacksWorker+0x3a2", "FLTMGR!FltpCreate+0x310"])
       + "\nPlease contact the vendor of sepfilter.sys.\n")
thread("x-50-win32k.eml", "x-win32k", "distractor: 0x50 like edrsensor/vwifimf, but in win32kfull",
       subject="CAS-20904-XWK004 - 切换窗口时蓝屏", customer="刘洋 <liuyang@corp-q.example>", customer_text="切换窗口蓝屏。",
       engineer="华斌", date="Thu, 04 Feb 2021 10:00:00 +0800", msgid="x-4",
       body="您好：\nPAGE_FAULT_IN_NONPAGED_AREA (50)\n" + kc(["nt!KeBugCheckEx", "nt!MiSystemFault", "nt!MmAccessFault", "nt!KiPageFault", "win32kfull!xxxDestroyWindow",
                                                          "win32kfull!xxxFreeWindow", "win32kbase!HMDestroyUnlockedObject"])
       + "建议安装最新的系统补丁 KB5005565。\n")
thread("x-kb-install.eml", "x-no-crash", "distractor: an update failure, no crash at all",
       subject="KB5005565 install fails 0x800f0922", customer="Marco Bianchi <marco@corp-r.example>", customer_text="KB5005565 fails on 40 machines.",
       engineer="Aiko Tanaka", date="Fri, 05 Feb 2021 10:00:00 +0000", msgid="x-5", zh=False,
       body="Hi Marco,\n\n0x800f0922 means the servicing stack is out of date. Please install KB5005260 first.\n")

with open(os.path.join(ROOT, 'labels.tsv'), 'w') as f:
    f.write("# Root-cause groups of the evaluation threads: file<TAB>group # what varies. Groups starting with x- are\n")
    f.write("# distractors with no other member: a lookup should answer 'none' for them.\n")
    for name, group, comment in labels:
        f.write("%s\t%s # %s\n" % (name, group, comment))
print(len(labels), 'threads')
