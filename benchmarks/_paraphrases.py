"""A labelled set of paraphrases and near-misses for measuring a semantic cache's wrong answers.

Each *family* holds requests that look alike but need different answers (5 km in miles / 5
miles in km; foods to eat / to avoid with diabetes); each *meaning* in it is three phrasings of
one request, which one answer serves. Written by hand for this benchmark: the near-misses swap
a direction, a number, a name or a verb, as users' real requests do; the paraphrases change
wording, order and register, not meaning.

How `semantic_cache.py` uses it: the first phrasing of every meaning but each family's last is
cached; every other phrasing is then asked. A query of a cached meaning should hit its own
entry (a hit on another is a wrong answer); a query of the held-out meaning should miss (any
hit is a wrong answer: nothing cached means what it asks).
"""

from __future__ import annotations

FAMILIES: list[list[list[str]]] = [
    [
        ["How many miles is 5 km?", "What is 5 km in miles?", "Convert 5 kilometres to miles."],
        ["How many km is 5 miles?", "What is 5 miles in km?", "Convert 5 miles to kilometres."],
        ["How many miles is 10 km?", "What is 10 km in miles?", "Convert 10 kilometres to miles."],
    ],
    [
        [
            "What is the capital of France?",
            "Which city is the capital of France?",
            "France's capital city is what?",
        ],
        [
            "What is the capital of Australia?",
            "Which city is the capital of Australia?",
            "Australia's capital city is what?",
        ],
    ],
    [
        [
            "Translate 'good morning' into Spanish.",
            "How do you say good morning in Spanish?",
            "What's 'good morning' in Spanish?",
        ],
        [
            "Translate 'good morning' into French.",
            "How do you say good morning in French?",
            "What's 'good morning' in French?",
        ],
        [
            "Translate 'thank you' into Spanish.",
            "How do you say thank you in Spanish?",
            "What's 'thank you' in Spanish?",
        ],
    ],
    [
        [
            "Write a Python function that reverses a string.",
            "Python function to reverse a string, please.",
            "How do I write a function in Python that returns a string backwards?",
        ],
        [
            "Write a Python function that checks whether a number is prime.",
            "Python function to test if a number is prime, please.",
            "How do I write a function in Python that tells if a number is prime?",
        ],
    ],
    [
        [
            "What foods should I eat if I have diabetes?",
            "Which foods are good for someone with diabetes?",
            "As a diabetic, what should I be eating?",
        ],
        [
            "What foods should I avoid if I have diabetes?",
            "Which foods are bad for someone with diabetes?",
            "As a diabetic, what should I not be eating?",
        ],
    ],
    [
        [
            "How do I reset my password?",
            "I forgot my password, how can I reset it?",
            "What are the steps to reset my account password?",
        ],
        [
            "How do I change my username?",
            "I want a different username, how can I change it?",
            "What are the steps to change my account username?",
        ],
    ],
    [
        [
            "What is 100 degrees Fahrenheit in Celsius?",
            "Convert 100 °F to °C.",
            "How much is 100 F in Celsius?",
        ],
        [
            "What is 100 degrees Celsius in Fahrenheit?",
            "Convert 100 °C to °F.",
            "How much is 100 C in Fahrenheit?",
        ],
    ],
    [
        [
            "Is Python faster than Java?",
            "Does Python run faster than Java?",
            "Which is quicker, Python or Java? Is it Python?",
        ],
        [
            "Is Java faster than Python?",
            "Does Java run faster than Python?",
            "Which is quicker, Java or Python? Is it Java?",
        ],
    ],
    [
        ["How do I boil an egg?", "What's the way to boil an egg?", "Steps for boiling an egg?"],
        ["How do I poach an egg?", "What's the way to poach an egg?", "Steps for poaching an egg?"],
    ],
    [
        [
            "What is 12 times 13?",
            "Multiply 12 by 13.",
            "What do you get when you multiply 12 and 13?",
        ],
        ["What is 12 plus 13?", "Add 12 and 13.", "What do you get when you add 12 and 13?"],
    ],
    [
        [
            "How do I cancel my order?",
            "I'd like to cancel an order I placed, how?",
            "What's the process for cancelling my order?",
        ],
        [
            "How do I return my order?",
            "I'd like to send back an order I received, how?",
            "What's the process for returning my order?",
        ],
    ],
    [
        [
            "What is the difference between TCP and UDP?",
            "How does TCP differ from UDP?",
            "TCP vs UDP: what sets them apart?",
        ],
        [
            "What is the difference between HTTP and HTTPS?",
            "How does HTTP differ from HTTPS?",
            "HTTP vs HTTPS: what sets them apart?",
        ],
    ],
    [
        [
            "Who was the first president of the United States?",
            "Who served as the first US president?",
            "Name the first president of the USA.",
        ],
        [
            "Who was the second president of the United States?",
            "Who served as the second US president?",
            "Name the second president of the USA.",
        ],
    ],
    [
        [
            "How do I delete duplicate rows in SQL?",
            "SQL query to remove duplicate rows?",
            "How can I get rid of duplicate records in an SQL table?",
        ],
        [
            "How do I find duplicate rows in SQL?",
            "SQL query to list duplicate rows?",
            "How can I see which records are duplicated in an SQL table?",
        ],
    ],
    [
        [
            "How do I undo my last git commit and throw away its changes?",
            "Remove the latest git commit and discard what it changed.",
            "Git: drop the last commit completely, changes included.",
        ],
        [
            "How do I undo my last git commit but keep its changes?",
            "Remove the latest git commit but keep what it changed.",
            "Git: drop the last commit, keeping the changes in my working tree.",
        ],
    ],
    [
        [
            "Will it rain in Paris tomorrow?",
            "Is rain expected in Paris tomorrow?",
            "Tomorrow in Paris, will there be rain?",
        ],
        [
            "Will it rain in Paris today?",
            "Is rain expected in Paris today?",
            "Today in Paris, will there be rain?",
        ],
    ],
    [
        [
            "Is it safe to drink tap water in Mexico?",
            "Can I safely drink the tap water in Mexico?",
            "Mexico: is the tap water OK to drink?",
        ],
        [
            "Is it safe to drink tap water in Canada?",
            "Can I safely drink the tap water in Canada?",
            "Canada: is the tap water OK to drink?",
        ],
    ],
    [
        [
            "Summarize the plot of Hamlet.",
            "Give me a summary of Hamlet's story.",
            "What happens in Hamlet, briefly?",
        ],
        [
            "Summarize the plot of Macbeth.",
            "Give me a summary of Macbeth's story.",
            "What happens in Macbeth, briefly?",
        ],
    ],
    [
        [
            "Can I take ibuprofen with paracetamol?",
            "Is it OK to combine ibuprofen and paracetamol?",
            "Ibuprofen together with paracetamol: is that safe?",
        ],
        [
            "Can I take ibuprofen with alcohol?",
            "Is it OK to combine ibuprofen and alcohol?",
            "Ibuprofen together with alcohol: is that safe?",
        ],
    ],
    [
        [
            "How long should I roast a 5 kg turkey?",
            "Roasting time for a 5 kg turkey?",
            "For how long do I cook a five-kilogram turkey in the oven?",
        ],
        [
            "How long should I roast a 10 kg turkey?",
            "Roasting time for a 10 kg turkey?",
            "For how long do I cook a ten-kilogram turkey in the oven?",
        ],
    ],
    [
        [
            "Recommend a laptop for programming under $1000.",
            "What's a good programming laptop for less than $1000?",
            "Best laptop for coding with a budget of 1000 dollars?",
        ],
        [
            "Recommend a laptop for programming under $500.",
            "What's a good programming laptop for less than $500?",
            "Best laptop for coding with a budget of 500 dollars?",
        ],
    ],
    [
        [
            "Write a haiku about autumn.",
            "Compose a haiku on the theme of autumn.",
            "Can you write me an autumn haiku?",
        ],
        [
            "Write a haiku about spring.",
            "Compose a haiku on the theme of spring.",
            "Can you write me a spring haiku?",
        ],
        [
            "Write a limerick about autumn.",
            "Compose a limerick on the theme of autumn.",
            "Can you write me an autumn limerick?",
        ],
    ],
    [
        [
            "What is the population of Canada?",
            "How many people live in Canada?",
            "Canada's population is how large?",
        ],
        [
            "What is the area of Canada?",
            "How big is Canada in square kilometres?",
            "Canada's land area is how large?",
        ],
    ],
    [
        [
            "Who wrote Pride and Prejudice?",
            "Who is the author of Pride and Prejudice?",
            "Pride and Prejudice was written by whom?",
        ],
        [
            "When was Pride and Prejudice written?",
            "In what year was Pride and Prejudice published?",
            "Pride and Prejudice was written when?",
        ],
    ],
    [
        [
            "How do I center a div horizontally in CSS?",
            "CSS: horizontally centring a div?",
            "What CSS puts a div in the horizontal middle of the page?",
        ],
        [
            "How do I center a div vertically in CSS?",
            "CSS: vertically centring a div?",
            "What CSS puts a div in the vertical middle of the page?",
        ],
    ],
    [
        [
            "Find me a flight from New York to London.",
            "Search flights New York to London.",
            "I need to fly from New York to London; what flights are there?",
        ],
        [
            "Find me a flight from London to New York.",
            "Search flights London to New York.",
            "I need to fly from London to New York; what flights are there?",
        ],
    ],
    [
        [
            "What are the symptoms of a heart attack in women?",
            "How does a heart attack show up in women?",
            "Signs that a woman is having a heart attack?",
        ],
        [
            "What are the symptoms of a stroke in women?",
            "How does a stroke show up in women?",
            "Signs that a woman is having a stroke?",
        ],
    ],
    [
        [
            "Explain recursion to a five-year-old.",
            "How would you describe recursion to a small child?",
            "Recursion, explained simply enough for a kid of five?",
        ],
        [
            "Explain recursion to a computer science student.",
            "How would you describe recursion to a CS undergraduate?",
            "Recursion, explained for someone studying computer science?",
        ],
    ],
]
