# refundrules serve in a container: durable-rules is compiled here, so users need no compiler.
#   docker build -t refundrules . && docker run -p 8000:8000 refundrules
FROM python:3.12-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# The define is a no-op before 3.13 and makes durable-rules 2.0.28 build on 3.13.
RUN CPPFLAGS=-DPyEval_CallObject=PyObject_CallObject \
    pip wheel --no-cache-dir --wheel-dir /wheels '.[server,batch]'

FROM python:3.12-slim
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links /wheels 'refundrules[server,batch]' \
    && rm -rf /wheels && useradd --create-home refundrules
USER refundrules
EXPOSE 8000
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health')"
CMD ["refundrules", "serve", "--host", "0.0.0.0", "--port", "8000"]
