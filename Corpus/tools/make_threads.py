#!/usr/bin/env python3
"""Writes the hand-made sample threads under Corpus/threads/ (run from anywhere; output is committed).

Each thread is written by us in the shapes real support mail takes (see ../../README.md, "Corpus"):
Outlook zh-CN in GB18030 base64 with an HTML alternative, an English thread with !analyze -v as a .txt
attachment, an mbox with two interleaved threads, a maildir, an HTML-only mail with a stack in <pre> and a
table, and a forwarded message/rfc822 in Big5. Bad inputs go to Corpus/bad-input/.
"""
import base64, os, quopri, textwrap
from email.header import Header

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')

def b64(data: bytes) -> str:
    s = base64.b64encode(data).decode()
    return '\r\n'.join(s[i:i + 76] for i in range(0, len(s), 76))

def qp(data: bytes) -> str:
    return quopri.encodestring(data).decode()

def enc_word(text, charset='gb2312', codec='gb18030', mode='B'):
    raw = text.encode(codec)
    if mode == 'B':
        return '=?%s?B?%s?=' % (charset, base64.b64encode(raw).decode())
    return '=?%s?Q?%s?=' % (charset, ''.join(c if c.isalnum() and ord(c) < 128 else '=%02X' % b for c, b in ((chr(x), x) for x in raw)))

def write(rel, content, mode='w'):
    path = os.path.join(ROOT, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if isinstance(content, bytes):
        open(path, 'wb').write(content)
    else:
        open(path, 'w', newline='').write(content)

def crlf(s):
    return s.replace('\r\n', '\n').replace('\n', '\r\n')

# ---------------------------------------------------------------------------------------------------------
# 1. Outlook zh-CN reply, GB18030 base64, multipart/alternative with HTML, -----邮件原件----- quote.
plain_a = """王工，您好：

dump 已分析完毕，结论如下：
蓝屏代码为 DRIVER_POWER_STATE_FAILURE (9f)，系统在睡眠唤醒时等待无线网卡驱动完成电源 IRP 超时。
Arguments:
Arg1: 0000000000000003, A device object has been blocking an Irp for too long a time
Arg2: ffffc50f8a3b2060, Physical Device Object of the stack
Arg3: fffff8025e46f850, nt!TRIAGE_9F_POWER on Win7 and higher, otherwise the Functional Device Object of the stack
Arg4: ffffc50f9156b8a0, The blocked IRP

阻塞 IRP 的线程堆栈：
 # Child-SP          RetAddr               Call Site
00 fffff802`5e46f7d8 fffff802`5a8f1e2b     nt!KeBugCheckEx
01 fffff802`5e46f7e0 fffff802`5a8f1d35     nt!PopIrpWatchdogBugcheck+0xdf
02 fffff802`5e46f850 fffff802`5a6b2d8e     nt!PopIrpWatchdog+0x25
03 fffff802`5e46f8a0 fffff802`5a6b1f44     nt!KiProcessExpiredTimerList+0x1de
04 fffff802`5e46f990 fffff802`5a7f5c4e     nt!KiRetireDpcList+0x4e4
05 fffff802`5e46fbe0 00000000`00000000     nt!KiIdleLoop+0x9e

!irp ffffc50f9156b8a0 显示 IRP 停在 \\Driver\\Netwtw10 (Netwtw10.sys 22.80.0.4, 时间戳 2023-03-02)。
下一步建议：
1. 建议将无线网卡驱动 Netwtw10.sys 回退到 22.40.0.7 版本后观察；
2. 请在设备管理器中关闭无线网卡的“允许计算机关闭此设备以节约电源”。
如问题复现，请收集完整内存转储（full dump）发给我们。

张伟
技术支持工程师 | 电话：010-5617****

-----邮件原件-----
发件人: 王建国 [mailto:wangjg@contoso-bank.cn]
发送时间: 2023年4月11日 9:20
收件人: 张伟 <zhangwei@support.example.com>
主题: [REG:120090312000217] CAS-03117-R2D8K4 - 更新网卡驱动后开机蓝屏 0x9F

张工：
上周全行推送了新版无线网卡驱动，之后约 30 台 ThinkPad T14 在睡眠唤醒后蓝屏，代码 0x0000009F。dump 已上传至 sftp。
"""
html_a = """<html xmlns:o="urn:schemas-microsoft-com:office:office"><head><meta http-equiv=Content-Type content="text/html; charset=gb2312">
<style><!-- p.MsoNormal {margin:0cm; font-family:等线;} --></style></head>
<body lang=ZH-CN><div class=WordSection1>
<p class=MsoNormal>王工，您好：<o:p></o:p></p>
<p class=MsoNormal>dump 已分析完毕，结论如下：<br>蓝屏代码为 DRIVER_POWER_STATE_FAILURE (9f)，系统在睡眠唤醒时等待无线网卡驱动完成电源 IRP 超时。</p>
<pre>Arguments:
Arg1: 0000000000000003, A device object has been blocking an Irp for too long a time
Arg2: ffffc50f8a3b2060, Physical Device Object of the stack
Arg3: fffff8025e46f850, nt!TRIAGE_9F_POWER on Win7 and higher, otherwise the Functional Device Object of the stack
Arg4: ffffc50f9156b8a0, The blocked IRP</pre>
<p class=MsoNormal>阻塞 IRP 的线程堆栈：</p>
<pre> # Child-SP          RetAddr               Call Site
00 fffff802`5e46f7d8 fffff802`5a8f1e2b     nt!KeBugCheckEx
01 fffff802`5e46f7e0 fffff802`5a8f1d35     nt!PopIrpWatchdogBugcheck+0xdf
02 fffff802`5e46f850 fffff802`5a6b2d8e     nt!PopIrpWatchdog+0x25
03 fffff802`5e46f8a0 fffff802`5a6b1f44     nt!KiProcessExpiredTimerList+0x1de
04 fffff802`5e46f990 fffff802`5a7f5c4e     nt!KiRetireDpcList+0x4e4
05 fffff802`5e46fbe0 00000000`00000000     nt!KiIdleLoop+0x9e</pre>
<p class=MsoNormal>!irp ffffc50f9156b8a0 显示 IRP 停在 \\Driver\\Netwtw10 (Netwtw10.sys 22.80.0.4, 时间戳 2023-03-02)。</p>
<p class=MsoNormal>下一步建议：<br>1. 建议将无线网卡驱动 Netwtw10.sys 回退到 22.40.0.7 版本后观察；<br>
2. 请在设备管理器中关闭无线网卡的&#8220;允许计算机关闭此设备以节约电源&#8221;。<br>
如问题复现，请收集完整内存转储（full dump）发给我们。</p>
<p class=MsoNormal>张伟<br>技术支持工程师 | 电话：010-5617****</p>
<div style='border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm'>
<p class=MsoNormal><b>发件人<span lang=EN-US>:</span></b> 王建国 [mailto:wangjg@contoso-bank.cn]<br>
<b>发送时间<span lang=EN-US>:</span></b> 2023年4月11日 9:20<br><b>收件人:</b> 张伟<br>
<b>主题:</b> [REG:120090312000217] CAS-03117-R2D8K4 - 更新网卡驱动后开机蓝屏 0x9F</p></div>
<p class=MsoNormal>张工：<br>上周全行推送了新版无线网卡驱动，之后约 30 台 ThinkPad T14 在睡眠唤醒后蓝屏，代码 0x0000009F。dump 已上传至 sftp。</p>
</div></body></html>
"""
subject_a = '答复: [REG:120090312000217] CAS-03117-R2D8K4 - 更新网卡驱动后开机蓝屏 0x9F'
eml_a = f"""From: =?gb2312?B?{base64.b64encode('张伟'.encode('gb18030')).decode()}?= <zhangwei@support.example.com>
To: =?gb2312?B?{base64.b64encode('王建国'.encode('gb18030')).decode()}?= <wangjg@contoso-bank.cn>
Subject: {enc_word('答复: [REG:120090312000217] CAS-03117-R2D8K4 - ')}
 {enc_word('更新网卡驱动后开机蓝屏 0x9F')}
Date: Wed, 12 Apr 2023 15:42:10 +0800
Message-ID: <000a01d96d1a$5b2c8e40$1185aac0$@support.example.com>
In-Reply-To: <8f2e1c0a9b7d4e55@contoso-bank.cn>
Thread-Topic: CAS-03117-R2D8K4
Thread-Index: AdltGjnQ3lO4mF1dQ3eY0WZs3pXQ+A==
MIME-Version: 1.0
Content-Type: multipart/alternative;
\tboundary="----=_NextPart_000_000B_01D96D5D.6951B0A0"
X-Mailer: Microsoft Outlook 16.0
Content-Language: zh-cn

This is a multipart message in MIME format.

------=_NextPart_000_000B_01D96D5D.6951B0A0
Content-Type: text/plain;
\tcharset="gb2312"
Content-Transfer-Encoding: base64

{b64(crlf(plain_a).encode('gb18030'))}

------=_NextPart_000_000B_01D96D5D.6951B0A0
Content-Type: text/html;
\tcharset="gb2312"
Content-Transfer-Encoding: base64

{b64(crlf(html_a).encode('gb18030'))}

------=_NextPart_000_000B_01D96D5D.6951B0A0--
"""
write('threads/eml/outlook-zh-gb18030-reply.eml', crlf(eml_a))

# ---------------------------------------------------------------------------------------------------------
# 2. English thread, !analyze -v output as a .txt attachment, plus a binary minidump.
analyze_b = """*******************************************************************************
*                                                                             *
*                        Bugcheck Analysis                                    *
*                                                                             *
*******************************************************************************

DPC_WATCHDOG_VIOLATION (133)
The DPC watchdog detected a prolonged run time at an IRQL of DISPATCH_LEVEL
or above.
Arguments:
Arg1: 0000000000000001, The system cumulatively spent an extended period of time at
\tDISPATCH_LEVEL or above.
Arg2: 0000000000001e00, The watchdog period (in ticks).
Arg3: fffff8047d6fb320, cast to nt!DPC_WATCHDOG_GLOBAL_TRIAGE_BLOCK, which contains
\tadditional information regarding the cumulative timeout
Arg4: 0000000000000000

Debugging Details:
------------------

KEY_VALUES_STRING: 1

    Key  : Analysis.CPU.mSec
    Value: 3921

BUGCHECK_CODE:  133

BUGCHECK_P1: 1

BUGCHECK_P2: 1e00

BUGCHECK_P3: fffff8047d6fb320

BUGCHECK_P4: 0

PROCESS_NAME:  System

STACK_TEXT:  
ffffb581`0ea3fc88 fffff804`7cc3b6a2     : 00000000`00000133 00000000`00000001 00000000`00001e00 fffff804`7d6fb320 : nt!KeBugCheckEx
ffffb581`0ea3fc90 fffff804`7cac9f03     : 00000c2f`5d1fb9e3 ffffb581`0ea00180 00000000`00000000 ffffb581`0ea00180 : nt!KeAccumulateTicks+0x1c8b72
ffffb581`0ea3fcf0 fffff804`7cac99ea     : ffffd28a`2b9b4000 fffff804`7d2a6e88 00000000`00000000 00000000`00000000 : nt!KeClockInterruptNotify+0x453
ffffb581`0ea3fd30 fffff804`7ca088d5     : ffffd28a`2b9b4000 00000000`00000000 00000000`00000000 00000000`00000000 : nt!HalpTimerClockIpiRoutine+0x1a
ffffb581`0ea3fd60 fffff804`7cc0b2ba     : ffffd28a`1f26e900 ffffd28a`2b9b4000 ffffd28a`1f26e900 00000000`00000000 : nt!KiCallInterruptServiceRoutine+0xa5
ffffb581`0ea3fdb0 fffff804`7cc0b827     : 00000000`00000000 00000000`00000000 00000000`00000000 00000000`00000000 : nt!KiInterruptSubDispatchNoLockNoEtw+0xfa
ffff8a06`3d6a7a30 fffff804`81a21c6d     : fffff804`81a21c45 00000000`00000000 ffffd28a`2f10e1a0 00000000`00000000 : nt!KiInterruptDispatchNoLockNoEtw+0x37
ffff8a06`3d6a7bc0 fffff804`81a1f2d8     : ffffd28a`2f10e1a0 00000000`00000001 00000000`00000000 ffffd28a`2f10e000 : iaStorAC+0x21c6d
ffff8a06`3d6a7c00 fffff804`81a0b8c1     : 00000000`00000000 ffffd28a`2f10e000 00000000`00000000 00000000`00000000 : iaStorAC+0x1f2d8
ffff8a06`3d6a7c60 fffff804`7ca5e0a0     : ffffd28a`2e3f1a18 00000000`00000000 ffff8a06`3d6a7d50 00000000`00000000 : iaStorAC+0xb8c1
ffff8a06`3d6a7d00 fffff804`7ca5d6e4     : 00000000`00000000 00000000`00000000 00000000`00000000 00000000`00000000 : nt!KiExecuteAllDpcs+0x2e0
ffff8a06`3d6a7e70 fffff804`7cc0e6be     : 00000000`00000000 ffffb581`0ea00180 00000000`00000000 00000000`00000000 : nt!KiRetireDpcList+0x1f4
ffff8a06`3d6a7fb0 00000000`00000000     : ffff8a06`3d6a8000 ffff8a06`3d6a2000 00000000`00000000 00000000`00000000 : nt!KiPlayReplayDispatch+0x6e


SYMBOL_NAME:  iaStorAC+21c6d

MODULE_NAME: iaStorAC

IMAGE_NAME:  iaStorAC.sys

STACK_COMMAND:  .cxr; .ecxr ; kb

BUCKET_ID_FUNC_OFFSET:  21c6d

FAILURE_BUCKET_ID:  0x133_ISR_iaStorAC!unknown_function

OS_VERSION:  10.0.19041.1

BUILDLAB_STR:  vb_release

OSPLATFORM_TYPE:  x64

OSNAME:  Windows 10

FAILURE_ID_HASH:  {3c8f1d4e-8c1a-7a11-2b0c-0f3e1f6d5a11}

Followup:     MachineOwner
---------
"""
body_b = """Hi Priya,

Thanks for uploading the dump from the Latitude 7420 (Windows 10 21H2, build 19044.2604).
The full !analyze -v output is attached as analyze-v.txt.

Summary: bugcheck 0x133 DPC_WATCHDOG_VIOLATION. The DPC that ran too long belongs to iaStorAC.sys
(Intel Rapid Storage Technology, 17.8.0.1065, dated 2020). The same signature shows up on other
machines with that RST build.

Next steps:
- We recommend updating the Intel RST driver iaStorAC.sys to 17.11.3.1010 or later from the OEM site.
- Please also install KB5022834 (February 2023 cumulative update); it fixes a storport timing issue.
- If it happens again after the update, please collect a kernel memory dump and the System event log.

Best regards,
Daniel Ortiz
Escalation Engineer, Windows Platform Support

-----Original Message-----
From: Priya Raman <priya.raman@fabrikam.example>
Sent: Monday, March 6, 2023 9:02 AM
To: Daniel Ortiz <daniel.ortiz@support.example.com>
Subject: SR#120030623000481 BSOD DPC_WATCHDOG_VIOLATION on Latitude fleet

Hello Daniel,

Since last week about 12 Latitude 7420 laptops blue screen with DPC_WATCHDOG_VIOLATION,
mostly during large file copies to the encrypted D: drive. Memory dump uploaded as MEMORY-0306.zip.

Regards,
Priya Raman
Desktop Engineering, Fabrikam
"""
minidump = b'MDMP\x93\xa7\x00\x00' + bytes(range(256)) * 8
eml_b = f"""Return-Path: <daniel.ortiz@support.example.com>
From: Daniel Ortiz <daniel.ortiz@support.example.com>
To: Priya Raman <priya.raman@fabrikam.example>
Subject: RE: SR#120030623000481 BSOD DPC_WATCHDOG_VIOLATION on Latitude fleet
Date: Tue, 07 Mar 2023 18:15:44 -0800
Message-ID: <MW4PR21MB1857A0D4E2F0B1C9@MW4PR21MB1857.namprd21.prod.outlook.com>
In-Reply-To: <c9b1a7e0-5d43-4a6c-9e0b-7f1f3e2a6b10@fabrikam.example>
References: <c9b1a7e0-5d43-4a6c-9e0b-7f1f3e2a6b10@fabrikam.example>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="_004_MW4PR21MB1857_"

--_004_MW4PR21MB1857_
Content-Type: text/plain; charset="us-ascii"
Content-Transfer-Encoding: quoted-printable

{qp(crlf(body_b).encode('ascii'))}
--_004_MW4PR21MB1857_
Content-Type: text/plain; name="analyze-v.txt"
Content-Description: analyze-v.txt
Content-Disposition: attachment; filename="analyze-v.txt"; size={len(analyze_b)}
Content-Transfer-Encoding: base64

{b64(crlf(analyze_b).encode('ascii'))}

--_004_MW4PR21MB1857_
Content-Type: application/octet-stream; name="Mini030623-01.dmp"
Content-Disposition: attachment; filename="Mini030623-01.dmp"
Content-Transfer-Encoding: base64

{b64(minidump)}

--_004_MW4PR21MB1857_--
"""
write('threads/eml/english-analyze-attachment.eml', crlf(eml_b))

# ---------------------------------------------------------------------------------------------------------
# 3. mbox with two interleaved threads (one Chinese QP UTF-8, one English), with >From escaping.
def mbox_msg(envelope, headers, body):
    lines = []
    for l in body.split('\n'):
        if l.startswith('From ') or (l.startswith('>') and l.lstrip('>').startswith('From ')):
            l = '>' + l
        lines.append(l)
    return f"From {envelope}\n" + ''.join(f"{k}: {v}\n" for k, v in headers) + "\n" + '\n'.join(lines) + "\n\n"

c1_body = """李工您好：
财务部有 5 台 ThinkPad X1 在连接无线网络拷贝大文件时蓝屏，蓝屏代码 0x00000050。
近期升级过 DSP 客户端到 5.2 版本，无线网卡驱动已是最新。
麻烦帮忙分析 dump，谢谢！

陈静
手机：138****7721
"""
c2_body = """陈工，您好：

dump 分析结果：PAGE_FAULT_IN_NONPAGED_AREA (50)，访问地址 ffffd30c`8a1f0ff8。
STACK_TEXT 关键帧如下：
nt!KeBugCheckEx
nt!MiSystemFault+0x1d0c3f
nt!MmAccessFault+0x400
nt!KiPageFault+0x358
nwifi!Dot11SendCompletion+0x4b
nwifi!Pt6SendComplete+0x1d
ndis!ndisCallSendCompleteHandler+0x33
ndis!NdisFSendNetBufferListsComplete+0x28dc4
vwifimf+0x1f92

!pool 显示出错的内存块 tag 为 Filt，属于 vwifimf.sys（TMS 终端管理软件的无线过滤驱动）。
建议卸载 vwifimf.sys 或联系 TMS 厂商排查，同时可以开启 special pool 进一步确认。

On 2023-05-08 10:12, 陈静 wrote:
> 李工您好：
> 财务部有 5 台 ThinkPad X1 在连接无线网络拷贝大文件时蓝屏，蓝屏代码 0x00000050。
"""
d1_body = """Hi team,

KB5005565 fails to install on about 40 Windows 10 21H1 machines with error 0x800f0922.
CBS.log shows "Failed to resolve package" for the servicing stack.
From what we see the failures started after the WSUS cleanup.

Thanks,
Marco
"""
d2_body = """Hi Marco,

0x800f0922 usually means the System Reserved partition is full or the servicing stack is out of date.
From the CBS.log lines you sent, the SSU is missing.

Please install the latest servicing stack update KB5005260 first, then retry KB5005565.
If that still fails, please collect C:\\Windows\\Logs\\CBS\\CBS.log and the output of dism /online /cleanup-image /scanhealth.

Thanks,
Aiko

On Tue, May 9, 2023 at 8:30 AM Marco Bianchi <marco.bianchi@northwind.example> wrote:
> KB5005565 fails to install on about 40 Windows 10 21H1 machines with error 0x800f0922.
> From what we see the failures started after the WSUS cleanup.
"""
def qpu(s):
    return quopri.encodestring(s.encode('utf-8')).decode()

mbox = ''
mbox += mbox_msg('chenjing@contoso-fin.example Mon May  8 10:12:03 2023', [
    ('From', '=?utf-8?B?%s?= <chenjing@contoso-fin.example>' % base64.b64encode('陈静'.encode()).decode()),
    ('To', 'liqiang@support.example.com'),
    ('Subject', '=?utf-8?Q?' + ''.join('=%02X' % b for b in 'X1 无线拷贝文件蓝屏 0x50'.encode()) + '?='),
    ('Date', 'Mon, 8 May 2023 10:12:03 +0800'),
    ('Message-ID', '<20230508101203.4F1A@contoso-fin.example>'),
    ('MIME-Version', '1.0'),
    ('Content-Type', 'text/plain; charset=utf-8'),
    ('Content-Transfer-Encoding', 'quoted-printable')], qpu(c1_body))
mbox += mbox_msg('marco.bianchi@northwind.example Tue May  9 08:30:41 2023', [
    ('From', 'Marco Bianchi <marco.bianchi@northwind.example>'),
    ('To', 'Update Support <updates@support.example.com>'),
    ('Subject', 'KB5005565 install fails with 0x800f0922'),
    ('Date', 'Tue, 9 May 2023 08:30:41 +0200'),
    ('Message-ID', '<CAF3x9+kb5005565@mail.northwind.example>'),
    ('MIME-Version', '1.0'),
    ('Content-Type', 'text/plain; charset=us-ascii')], d1_body)
mbox += mbox_msg('liqiang@support.example.com Tue May  9 11:05:17 2023', [
    ('From', '=?gb2312?B?%s?= <liqiang@support.example.com>' % base64.b64encode('李强'.encode('gb18030')).decode()),
    ('To', 'chenjing@contoso-fin.example'),
    ('Subject', '=?utf-8?B?%s?=' % base64.b64encode('回复：X1 无线拷贝文件蓝屏 0x50'.encode()).decode()),
    ('Date', 'Tue, 9 May 2023 11:05:17 +0800'),
    ('Message-ID', '<a7c3e9d1-2b44-4f0e@support.example.com>'),
    ('In-Reply-To', '<20230508101203.4F1A@contoso-fin.example>'),
    ('References', '<20230508101203.4F1A@contoso-fin.example>'),
    ('MIME-Version', '1.0'),
    ('Content-Type', 'text/plain; charset=utf-8'),
    ('Content-Transfer-Encoding', 'quoted-printable')], qpu(c2_body))
mbox += mbox_msg('aiko.tanaka@support.example.com Tue May  9 16:48:09 2023', [
    ('From', 'Aiko Tanaka <aiko.tanaka@support.example.com>'),
    ('To', 'Marco Bianchi <marco.bianchi@northwind.example>'),
    ('Subject', 'Re: KB5005565 install fails with 0x800f0922'),
    ('Date', 'Tue, 9 May 2023 16:48:09 +0200'),
    ('Message-ID', '<f00d1e55.aiko@support.example.com>'),
    ('In-Reply-To', '<CAF3x9+kb5005565@mail.northwind.example>'),
    ('References', '<CAF3x9+kb5005565@mail.northwind.example>'),
    ('MIME-Version', '1.0'),
    ('Content-Type', 'text/plain; charset=us-ascii')], d2_body)
write('threads/mbox/support-2023-05.mbox', mbox)

# ---------------------------------------------------------------------------------------------------------
# 4. maildir: one thread without a case number split over three files, one delivered twice.
e1 = """Hello support,

Our Hyper-V host HV-NODE07 (Windows Server 2019, 17763.4252) rebooted twice tonight with
bugcheck 0x1E KMODE_EXCEPTION_NOT_HANDLED. The minidumps are on the share \\\\fs01\\dumps.

Regards,
Tom Keller
Infrastructure, Woodgrove
Phone: +49 89 2019****
"""
e2 = """Hi Tom,

Both dumps show the same stack:

2: kd> kc
 # Call Site
00 nt!KeBugCheckEx
01 nt!KiExceptionDispatch
02 nt!KiGeneralProtectionFault
03 vmswitch!VmsVmNicPvtKmclProcessingComplete
04 vmswitch!VmsExtPtRouteNetBufferLists
05 ndis!ndisMIndicateNetBufferListsToOpen
06 nt!KiRetireDpcList

This matches a known vmswitch issue fixed in KB5025229. Please install KB5025229 and let us know.

Kind regards,
Sara

Tom Keller <tom.keller@woodgrove.example> 于2023年5月15日周一 上午2:14写道：
> Our Hyper-V host HV-NODE07 (Windows Server 2019, 17763.4252) rebooted twice tonight with
> bugcheck 0x1E KMODE_EXCEPTION_NOT_HANDLED.
"""
e3 = """Sara,

KB5025229 is installed on all nodes since Tuesday and the hosts have been stable for a week.
You can close the ticket.

Tom

On Mon, May 15, 2023 at 09:40, Sara Lind <sara.lind@support.example.com> wrote:
> This matches a known vmswitch issue fixed in KB5025229. Please install KB5025229 and let us know.
"""
def eml(headers, body, charset='utf-8', cte='8bit'):
    h = ''.join(f"{k}: {v}\n" for k, v in headers)
    return h + f"MIME-Version: 1.0\nContent-Type: text/plain; charset={charset}\nContent-Transfer-Encoding: {cte}\n\n" + body
m1 = eml([('From', 'Tom Keller <tom.keller@woodgrove.example>'), ('To', 'support@support.example.com'),
          ('Subject', 'Hyper-V host bugchecks 0x1E after patch night'), ('Date', 'Mon, 15 May 2023 02:14:55 +0200'),
          ('Message-ID', '<hv-node07-0515@woodgrove.example>')], e1)
m2 = eml([('From', 'Sara Lind <sara.lind@support.example.com>'), ('To', 'Tom Keller <tom.keller@woodgrove.example>'),
          ('Subject', 'Re: Hyper-V host bugchecks 0x1E after patch night'), ('Date', 'Mon, 15 May 2023 09:40:12 +0200'),
          ('Message-ID', '<sara-0515-0940@support.example.com>'), ('In-Reply-To', '<hv-node07-0515@woodgrove.example>'),
          ('References', '<hv-node07-0515@woodgrove.example>')], e2)
m3 = eml([('From', 'Tom Keller <tom.keller@woodgrove.example>'), ('To', 'Sara Lind <sara.lind@support.example.com>'),
          ('Subject', 'Re: Hyper-V host bugchecks 0x1E after patch night'), ('Date', 'Mon, 22 May 2023 17:03:30 +0200'),
          ('Message-ID', '<hv-node07-0522@woodgrove.example>'), ('In-Reply-To', '<sara-0515-0940@support.example.com>'),
          ('References', '<hv-node07-0515@woodgrove.example> <sara-0515-0940@support.example.com>')], e3)
write('threads/maildir/support/cur/1684109695.M1P100.mx1:2,S', m1)
write('threads/maildir/support/cur/1684136412.M2P101.mx1:2,RS', m2)
write('threads/maildir/support/new/1684767810.M3P102.mx1', m3)
# the same reply delivered a second time (a copy kept by a mail rule)
write('threads/maildir/support/new/1684136413.M9P109.mx1', m2)
os.makedirs(os.path.join(ROOT, 'threads/maildir/support/tmp'), exist_ok=True)
write('threads/maildir/support/tmp/.keep', '')

# ---------------------------------------------------------------------------------------------------------
# 5. HTML-only mail: stack inside <pre>, module list in a table, OWA reply header as the quote.
html_f = """<html><head><meta charset="utf-8"><style>td{padding:2px}</style><script>alert('x')</script></head><body>
<div dir="ltr">Hi Ming,</div>
<div>The new dump from <b>PC-SH-0231</b> is a <span style="color:red">SYSTEM_SERVICE_EXCEPTION (3b)</span> again, same as last week:</div>
<pre>BugCheck 3B, {c0000005, fffff8066d2a1b4c, ffffa60f3e1d6920, 0}
Probably caused by : edrsensor.sys ( edrsensor+0x1b4c )

1: kd&gt; kv
 # Child-SP          RetAddr               : Args to Child                                                           : Call Site
00 ffffa60f`3e1d5fe8 fffff806`69a0a2a9     : 00000000`0000003b 00000000`c0000005 fffff806`6d2a1b4c ffffa60f`3e1d6920 : nt!KeBugCheckEx
01 ffffa60f`3e1d5ff0 fffff806`69a09c7c     : ffffa60f`3e1d7000 fffff806`699e2c40 ffffa60f`3e1d6920 00000000`00000000 : nt!KiBugCheckDispatch+0x69
02 ffffa60f`3e1d6130 fffff806`699f4a1f     : fffff806`69a0a3b0 00000000`00000000 00000000`00000000 00000000`00000000 : nt!KiSystemServiceHandler+0x7c
03 ffffa60f`3e1d6170 fffff806`698b8e45     : ffffa60f`3e1d66e0 00000000`00000000 ffffa60f`3e1d6920 fffff806`699e2c1f : nt!RtlpExecuteHandlerForException+0xf
04 ffffa60f`3e1d61a0 fffff806`698b6e2e     : ffffa60f`3e1d7000 00000000`00000000 00000000`00000000 00000000`00000000 : nt!RtlDispatchException+0x297
05 ffffa60f`3e1d68c0 fffff806`69a0a3cc     : 00000000`00000000 00000000`00000000 00000000`00000000 00000000`00000000 : nt!KiDispatchException+0x186
06 ffffa60f`3e1d6f80 fffff806`69a06ddf     : 00000000`00000000 00000000`00000000 00000000`00000000 00000000`00000000 : nt!KiExceptionDispatch+0x12c
07 ffffa60f`3e1d7160 fffff806`6d2a1b4c     : 00000000`00000000 00000000`00000000 00000000`00000000 00000000`00000000 : nt!KiPageFault+0x41f
08 ffffa60f`3e1d72f0 fffff806`6d2a08d1     : ffffc30b`1e2f4080 00000000`00000000 00000000`00000000 00000000`00000000 : edrsensor+0x1b4c
09 ffffa60f`3e1d7340 fffff806`69c8e3a2     : 00000000`00000000 00000000`00000000 00000000`00000000 00000000`00000000 : edrsensor+0x8d1
0a ffffa60f`3e1d7390 fffff806`69c8dd8f     : 00000000`00000000 00000000`00000000 00000000`00000000 00000000`00000000 : nt!PspCallProcessNotifyRoutines+0x212
0b ffffa60f`3e1d7460 fffff806`69d1b6a3     : 00000000`00000000 00000000`00000000 00000000`00000000 00000000`00000000 : nt!PspExitProcess+0x70</pre>
<div>Loaded third-party drivers on the stack:</div>
<table border="1"><tr><th>Module</th><th>Version</th><th>Timestamp</th></tr>
<tr><td>edrsensor.sys</td><td>4.2.117.0</td><td>6421A9C3</td></tr>
<tr><td>fltmgr.sys</td><td>10.0.19041.2546</td><td>Microsoft</td></tr></table>
<div>Please ask the EDR vendor whether sensor 4.2.117 is known to fault in the process-exit callback, and roll back to 4.1.98 on the affected PCs until they answer.</div>
<div>Thanks,<br>Lena</div>
<hr tabindex="-1" style="display:inline-block; width:98%">
<div id="divRplyFwdMsg" dir="ltr"><b>From:</b> Ming Zhao &lt;ming.zhao@adatum.example&gt;<br><b>Sent:</b> Thursday, June 1, 2023 4:20 PM<br>
<b>To:</b> Lena Fischer &lt;lena.fischer@support.example.com&gt;<br><b>Subject:</b> CAS-04410-M7Q2W9 another 0x3B on PC-SH-0231</div>
<div>Hi Lena, another crash tonight on the same PC, dump attached.</div>
</body></html>
"""
eml_f = f"""From: Lena Fischer <lena.fischer@support.example.com>
To: Ming Zhao <ming.zhao@adatum.example>
Subject: RE: CAS-04410-M7Q2W9 another 0x3B on PC-SH-0231
Date: Fri, 2 Jun 2023 10:05:31 +0000
Message-ID: <DB9PR83MB0671.lena.0602@support.example.com>
MIME-Version: 1.0
Content-Type: text/html; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

{qpu(html_f)}"""
write('threads/eml/html-only-stack-in-pre.eml', eml_f)

# ---------------------------------------------------------------------------------------------------------
# 6. Forwarded mail as message/rfc822 (the customer's original, in Big5).
inner_g = """各位好：
本行分行有 8 台電腦在開機時藍屏，停止代碼 CRITICAL_PROCESS_DIED (0xEF)。
發生前一天統一安裝了新版防毒軟體 7.3 版。
請協助分析，謝謝。

林志明
資訊處
電話：(02) 2388-****
"""
inner_eml = f"""From: =?big5?B?{base64.b64encode('林志明'.encode('big5')).decode()}?= <lin.zm@tw-bank.example>
To: support-tw@support.example.com
Subject: =?big5?B?{base64.b64encode('分行電腦開機藍屏 0xEF'.encode('big5')).decode()}?=
Date: Mon, 19 Jun 2023 09:30:00 +0800
Message-ID: <tw-bank-0619-0930@tw-bank.example>
MIME-Version: 1.0
Content-Type: text/plain; charset="big5"
Content-Transfer-Encoding: base64

{b64(crlf(inner_g).encode('big5'))}
"""
outer_g = """Hua Bin，

转发台湾分行客户的邮件，请协助安排工程师分析 0xEF 的 dump。
客户怀疑与新版防毒软件有关，建议先让客户提供 Application 和 System 事件日志。

刘洋
"""
eml_g = f"""From: =?utf-8?B?{base64.b64encode('刘洋'.encode()).decode()}?= <liuyang@support.example.com>
To: Hua Bin <bihua@support.example.com>
Subject: =?utf-8?B?{base64.b64encode('转发: 分行电脑开机蓝屏 0xEF'.encode()).decode()}?=
Date: Mon, 19 Jun 2023 11:02:45 +0800
Message-ID: <fw-0619-1102@support.example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="fwd-boundary-7731"

--fwd-boundary-7731
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: base64

{b64(outer_g.encode())}
--fwd-boundary-7731
Content-Type: message/rfc822
Content-Disposition: inline

{crlf(inner_eml)}
--fwd-boundary-7731--
"""
write('threads/eml/forwarded-rfc822-big5.eml', crlf(eml_g))

# ---------------------------------------------------------------------------------------------------------
# Bad inputs: each must give a one-line error naming the file, and the rest of a batch goes on.
good = crlf(eml_b)
write('bad-input/truncated.eml', good[: len(good) // 2])
write('bad-input/no-closing-boundary.eml', crlf(f"""From: a@example.com
Subject: no closing boundary
Date: Tue, 07 Mar 2023 18:15:44 -0800
Message-ID: <noclose@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="XYZ"

--XYZ
Content-Type: text/plain; charset=us-ascii

first part
--XYZ
Content-Type: text/plain; charset=us-ascii

second part, and then the mail just ends
"""))
write('bad-input/invalid-base64.eml', crlf("""From: a@example.com
Subject: invalid base64
Date: Tue, 07 Mar 2023 18:15:44 -0800
Message-ID: <badb64@example.com>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: base64

SGVsbG8gd29ybGQh
SGVs!!bG8gd29y$$bGQh
"""))
write('bad-input/unknown-charset.eml', crlf("""From: a@example.com
Subject: unknown charset
Date: Tue, 07 Mar 2023 18:15:44 -0800
Message-ID: <unknowncs@example.com>
MIME-Version: 1.0
Content-Type: text/plain; charset=x-klingon-42
Content-Transfer-Encoding: 8bit

""") .encode('ascii') + '蓝屏代码 0x50，请分析。\r\n'.encode('gb18030'))
import random
rnd = random.Random(7)
write('bad-input/random.bin', bytes(rnd.randrange(256) for _ in range(4096)))
write('bad-input/empty.eml', '')
print('written')
