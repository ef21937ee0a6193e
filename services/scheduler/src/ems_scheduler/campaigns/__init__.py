"""Campaigns: verified, compiled and scheduled from a candidate, then launched by the launcher.

- `candidate`: the candidate format the dev team sends.
- `compiler/`: verification and compilation of a candidate into SES templates and a campaign
  file (pure Python, streaming).
- `service`: the use cases (create, list, describe, reschedule, cancel, delete, and the
  background verification of candidates in S3) over the adapters below.
- `files`: candidates in S3 and the compiled campaign files; `schedules`: the launch schedules
  (EventBridge Scheduler); `compile_jobs`: the compile worker's queue (SQS).
"""
