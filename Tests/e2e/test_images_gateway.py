"""Images through the gateway, driven by the official `openai` and `anthropic` SDKs: Chat Completions `image_url`
parts (whole and streamed), the Responses API's `input_image`, Anthropic's `image` blocks. The simulator's `echo`
(the `sim-echo` model) says what it received: each image's type, size and a hash of its bytes."""
import base64

import anthropic
import openai
import pytest

from test_images_ui import PNG_3X2, GIF_5X7, seen
from test_usage_ui import add_user

PNG_URL = "data:image/png;base64," + base64.b64encode(PNG_3X2).decode()


@pytest.fixture(scope="module")
def token(server):
    # A user of its own: the shared user's newest conversation is the one the web tests continue.
    return add_user(server, "images-sdk", 1_000_000)


def openai_client(server, token):
    return openai.OpenAI(base_url=server.base + "/v1", api_key=token, max_retries=0, timeout=60)


def test_chat_completions_image_url_parts_reach_the_model_whole_and_streamed(server, token):
    sdk = openai_client(server, token)
    messages = [{"role": "user", "content": [
        {"type": "text", "text": "What is in it?"},
        {"type": "image_url", "image_url": {"url": PNG_URL, "detail": "high"}}]}]
    whole = sdk.chat.completions.create(model="sim-echo", messages=messages)
    assert whole.choices[0].message.content == f"user: What is in it?\n{seen('image/png', PNG_3X2)} (detail high)\n"
    streamed = "".join(chunk.choices[0].delta.content or "" for chunk in sdk.chat.completions.create(
        model="sim-echo", messages=messages, stream=True) if chunk.choices)
    assert streamed == whole.choices[0].message.content
    # The upstream's count of the image is what is reported (the simulator counts 100 a picture).
    text_only = sdk.chat.completions.create(model="sim-echo", messages=[{"role": "user", "content": "What is in it?"}])
    assert whole.usage.prompt_tokens == text_only.usage.prompt_tokens + 100


def test_the_responses_api_takes_input_image_parts(server, token):
    response = openai_client(server, token).responses.create(model="sim-echo", input=[{"role": "user", "content": [
        {"type": "input_text", "text": "And this?"},
        {"type": "input_image", "image_url": "data:image/gif;base64," + base64.b64encode(GIF_5X7).decode()}]}])
    # Without a `detail`, none goes upstream (the model's default).
    assert response.output_text == f"user: And this?\n{seen('image/gif', GIF_5X7)}\n"


def test_the_anthropic_sdk_sends_image_blocks(server, token):
    client = anthropic.Anthropic(base_url=server.base, api_key=token, max_retries=0, timeout=60)
    message = client.messages.create(model="sim-echo", max_tokens=500, messages=[{"role": "user", "content": [
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": base64.b64encode(PNG_3X2).decode()}},
        {"type": "text", "text": "Describe it."}]}])
    assert message.content[0].text == f"user: Describe it.\n{seen('image/png', PNG_3X2)}\n"


def test_an_image_that_is_not_one_is_a_bad_request_naming_the_part(server, token):
    with pytest.raises(openai.BadRequestError) as raised:
        openai_client(server, token).chat.completions.create(model="sim", messages=[{"role": "user", "content": [
            {"type": "text", "text": "What?"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64," + base64.b64encode(b"not an image").decode()}}]}])
    assert raised.value.body["param"] == "messages.0.content.1.image_url"
    assert "not a PNG, JPEG, GIF or WebP image" in raised.value.body["message"]
