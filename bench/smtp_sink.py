#!/usr/bin/env python3
"""A minimal SMTP sink for bench/mail.sh: speaks just enough ESMTP (EHLO,
MAIL, RCPT, DATA, RSET, NOOP, QUIT) to take messages, answers 250 to all,
counts them and keeps nothing. Every 100 ms it writes "COUNT FIRST LAST"
(messages, unix times of the first and the last) to STATUS_FILE.

    smtp_sink.py PORT STATUS_FILE
"""
import asyncio
import sys
import time

count = 0
first = last = 0.0


async def session(reader, writer):
    global count, first, last
    writer.write(b"220 sink ESMTP\r\n")
    try:
        while True:
            line = await reader.readline()
            if not line:
                break
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                writer.write(b"250-sink\r\n250-PIPELINING\r\n250 8BITMIME\r\n")
            elif verb == b"DATA":
                writer.write(b"354 go on\r\n")
                await writer.drain()
                while True:
                    l2 = await reader.readline()
                    if not l2 or l2 == b".\r\n":
                        break
                now = time.time()
                count += 1
                if count == 1:
                    first = now
                last = now
                writer.write(b"250 accepted\r\n")
            elif verb == b"QUIT":
                writer.write(b"221 bye\r\n")
                break
            else:
                writer.write(b"250 ok\r\n")
            await writer.drain()
    except ConnectionError:
        pass
    writer.close()


async def report(path):
    while True:
        with open(path + ".tmp", "w") as f:
            f.write(f"{count} {first:.3f} {last:.3f}\n")
        import os
        os.replace(path + ".tmp", path)
        await asyncio.sleep(0.1)


async def main():
    port, path = int(sys.argv[1]), sys.argv[2]
    server = await asyncio.start_server(session, "127.0.0.1", port, backlog=1024)
    asyncio.ensure_future(report(path))
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
